import { arrayTypeOf, type DataType, type NumericArray } from "../../core/datatype.ts";
import { invalidArgument } from "../../core/errors.ts";
import { bfloat16ToNumber, halfToNumber, numberToBfloat16, numberToHalf } from "../../core/float16.ts";
import type { TensorData } from "../../core/tensor.ts";

const INTEGER_RANGE: Partial<Record<DataType, [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65_535],
  UINT32: [0, 4_294_967_295],
  INT8: [-128, 127],
  INT16: [-32_768, 32_767],
  INT32: [-2_147_483_648, 2_147_483_647],
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * JSON `data` (flat or nested to match the shape) to TensorData, checking
 * every element's JSON type and range for the datatype. FP16/BF16 are
 * accepted as numbers and stored as their bit patterns. `where` names the
 * tensor in errors.
 */
export function jsonToTensorData(
  datatype: DataType,
  count: number,
  data: unknown,
  where: string,
): TensorData {
  const values = flatten(data, where);
  if (values.length !== count) {
    throw invalidArgument("protocol", `${where}: ${values.length} values given, shape needs ${count}`);
  }
  if (datatype === "BYTES") {
    return values.map((value, at) => {
      if (typeof value !== "string") throw elementError(where, at, value, "a string");
      return encoder.encode(value);
    });
  }
  const out = new (arrayTypeOf(datatype))(count);
  for (let at = 0; at < count; at++) out[at] = convertElement(datatype, values[at], where, at) as never;
  return out;
}

function convertElement(
  datatype: Exclude<DataType, "BYTES">,
  value: unknown,
  where: string,
  at: number,
): number | bigint {
  if (datatype === "BOOL") {
    if (typeof value !== "boolean") throw elementError(where, at, value, "true or false");
    return value ? 1 : 0;
  }
  if (typeof value !== "number") throw elementError(where, at, value, `a ${datatype} number`);
  switch (datatype) {
    case "FP32":
    case "FP64":
      return value;
    case "FP16":
      return numberToHalf(value);
    case "BF16":
      return numberToBfloat16(value);
    case "INT64":
    case "UINT64":
      if (!Number.isInteger(value) || (datatype === "UINT64" && value < 0))
        throw elementError(where, at, value, `a ${datatype}`);
      return BigInt(value);
    default: {
      const [min, max] = INTEGER_RANGE[datatype] as [number, number];
      if (!Number.isInteger(value) || value < min || value > max)
        throw elementError(where, at, value, `a ${datatype}`);
      return value;
    }
  }
}

function flatten(data: unknown, where: string): unknown[] {
  if (!Array.isArray(data)) throw invalidArgument("protocol", `${where}: 'data' must be an array`);
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const stack: unknown[][] = [data];
  const positions: number[] = [0];
  while (stack.length > 0) {
    const top = stack.length - 1;
    const list = stack[top] as unknown[];
    const position = positions[top] as number;
    if (position >= list.length) {
      stack.pop();
      positions.pop();
      continue;
    }
    positions[top] = position + 1;
    const item = list[position];
    if (Array.isArray(item)) {
      stack.push(item);
      positions.push(0);
    } else {
      out.push(item);
    }
  }
  return out;
}

function elementError(where: string, at: number, value: unknown, expected: string) {
  return invalidArgument(
    "protocol",
    `${where}: element ${at} is ${JSON.stringify(value) ?? String(value)}, expected ${expected}`,
  );
}

/** TensorData as the text of a flat JSON array, built directly (bigints exact, non-finite floats as null). */
export function tensorDataToJson(datatype: DataType, data: TensorData): string {
  if (Array.isArray(data))
    return `[${data.map((element) => JSON.stringify(decoder.decode(element))).join(",")}]`;
  const numeric = data as NumericArray;
  if (datatype === "BOOL")
    return `[${Array.from(numeric as Uint8Array, (v) => (v ? "true" : "false")).join(",")}]`;
  if (datatype === "FP16") return numbersToJson(Array.from(numeric as Uint16Array, halfToNumber));
  if (datatype === "BF16") return numbersToJson(Array.from(numeric as Uint16Array, bfloat16ToNumber));
  if (datatype === "FP32" || datatype === "FP64") return numbersToJson(numeric as Float32Array);
  return `[${(numeric as ArrayLike<number | bigint> & { join(separator: string): string }).join(",")}]`;
}

function numbersToJson(values: ArrayLike<number>): string {
  let text = "[";
  for (let at = 0; at < values.length; at++) {
    const value = values[at] as number;
    if (at > 0) text += ",";
    text += Number.isFinite(value) ? String(value) : "null";
  }
  return `${text}]`;
}
