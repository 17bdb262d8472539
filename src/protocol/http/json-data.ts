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
  return convertElements(datatype, values, where);
}

/** One tight loop per datatype: every element checked for its JSON type and range. */
function convertElements(datatype: Exclude<DataType, "BYTES">, values: unknown[], where: string): TensorData {
  const count = values.length;
  const out = new (arrayTypeOf(datatype))(count);
  if (datatype === "BOOL") {
    const bools = out as Uint8Array;
    for (let at = 0; at < count; at++) {
      const value = values[at];
      if (typeof value !== "boolean") throw elementError(where, at, value, "true or false");
      bools[at] = value ? 1 : 0;
    }
    return bools;
  }
  const numberAt = (at: number): number => {
    const value = values[at];
    if (typeof value !== "number") throw elementError(where, at, value, `a ${datatype} number`);
    return value;
  };
  if (datatype === "FP32" || datatype === "FP64") {
    const floats = out as Float32Array | Float64Array;
    for (let at = 0; at < count; at++) floats[at] = numberAt(at);
    return floats;
  }
  if (datatype === "FP16" || datatype === "BF16") {
    const halves = out as Uint16Array;
    const convert = datatype === "FP16" ? numberToHalf : numberToBfloat16;
    for (let at = 0; at < count; at++) halves[at] = convert(numberAt(at));
    return halves;
  }
  if (datatype === "INT64" || datatype === "UINT64") {
    const longs = out as BigInt64Array | BigUint64Array;
    for (let at = 0; at < count; at++) {
      const value = numberAt(at);
      if (!Number.isInteger(value) || (datatype === "UINT64" && value < 0))
        throw elementError(where, at, value, `a ${datatype}`);
      longs[at] = BigInt(value);
    }
    return longs;
  }
  const [min, max] = INTEGER_RANGE[datatype] as [number, number];
  const ints = out as Exclude<NumericArray, BigInt64Array | BigUint64Array>;
  for (let at = 0; at < count; at++) {
    const value = numberAt(at);
    if (!Number.isInteger(value) || value < min || value > max)
      throw elementError(where, at, value, `a ${datatype}`);
    ints[at] = value;
  }
  return ints;
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

/**
 * TensorData as the text of a flat JSON array: native JSON.stringify for
 * numbers (non-finite floats become null), exact digits for 64-bit integers.
 */
export function tensorDataToJson(datatype: DataType, data: TensorData): string {
  if (Array.isArray(data)) return JSON.stringify(data.map((element) => decoder.decode(element)));
  const numeric = data as NumericArray;
  if (datatype === "BOOL") return JSON.stringify(Array.from(numeric as Uint8Array, (value) => value !== 0));
  if (datatype === "FP16") return JSON.stringify(Array.from(numeric as Uint16Array, halfToNumber));
  if (datatype === "BF16") return JSON.stringify(Array.from(numeric as Uint16Array, bfloat16ToNumber));
  if (datatype === "INT64" || datatype === "UINT64") return `[${(numeric as BigInt64Array).join(",")}]`;
  return JSON.stringify(Array.from(numeric as Float64Array));
}
