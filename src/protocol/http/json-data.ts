import { arrayTypeOf, type DataType, type NumericArray } from "../../core/datatype.ts";
import { invalidArgument } from "../../core/errors.ts";
import { bfloat16ToNumber, halfToNumber, numberToBfloat16, numberToHalf } from "../../core/float16.ts";
import { FLOAT32_TEXT_MAX, INT32_TEXT_MAX, writeFloat32, writeInteger } from "../../core/number-text.ts";
import type { TensorData } from "../../core/tensor.ts";
import { JsonWriter } from "./json-writer.ts";

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
  // Already typed by the off-loop parser (json-off-loop.ts), which used flatNumbers below.
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    const typed = data as unknown as ArrayLike<number>;
    if (typed.length === count) return data as unknown as TensorData;
    data = Array.from(typed);
  }
  if (Array.isArray(data) && data.length === count) {
    const fast = flatNumbers(datatype, data);
    if (fast) return fast;
  }
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

/**
 * The common case in one pass: a flat array of plain numbers, each in range
 * for an FP32/FP64/INT8..UINT32 tensor. Undefined for anything else (other
 * datatypes, nested arrays, a bad element), which then takes the checked
 * path below for its exact error.
 */
export function flatNumbers(datatype: DataType, values: unknown[]): TensorData | undefined {
  const count = values.length;
  if (datatype === "FP32" || datatype === "FP64") {
    const floats = datatype === "FP32" ? new Float32Array(count) : new Float64Array(count);
    for (let at = 0; at < count; at++) {
      const value = values[at];
      if (typeof value !== "number") return undefined;
      floats[at] = value;
    }
    return floats;
  }
  const range = INTEGER_RANGE[datatype];
  if (!range) return undefined;
  const [min, max] = range;
  const ints = new (arrayTypeOf(datatype as Exclude<DataType, "BYTES">))(count) as Int32Array;
  for (let at = 0; at < count; at++) {
    const value = values[at];
    // Number.isInteger is false for non-numbers, NaN and fractions alike.
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) return undefined;
    ints[at] = value as number;
  }
  return ints;
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
 * Appends TensorData as a flat JSON array: integers and FP32/FP16/BF16
 * (shortest float32 digits) printed straight into the buffer; FP64 as
 * JSON.stringify prints it (non-finite floats become null everywhere); exact
 * digits for 64-bit integers.
 */
export function writeTensorData(out: JsonWriter, datatype: DataType, data: TensorData): void {
  if (Array.isArray(data)) out.text(JSON.stringify(data.map((element) => decoder.decode(element))));
  else if (datatype === "INT64" || datatype === "UINT64") out.text(`[${(data as BigInt64Array).join(",")}]`);
  else if (datatype === "FP64") out.text(JSON.stringify(Array.from(data as Float64Array)));
  else if (datatype === "BOOL")
    out.text(JSON.stringify(Array.from(data as Uint8Array, (value) => value !== 0)));
  else if (datatype === "FP32") writeFloats(out, data as Float32Array);
  // Every half and bfloat16 value is exactly a float32.
  else if (datatype === "FP16") writeFloats(out, Float32Array.from(data as Uint16Array, halfToNumber));
  else if (datatype === "BF16") writeFloats(out, Float32Array.from(data as Uint16Array, bfloat16ToNumber));
  else writeIntegers(out, data as Int32Array);
}

// One loop per element type, with room reserved once: a loop shared by
// several typed-array kinds runs several times slower.
function writeFloats(out: JsonWriter, data: Float32Array): void {
  const bytes = out.reserve(data.length * (FLOAT32_TEXT_MAX + 1) + 2);
  let at = out.length;
  bytes[at++] = 0x5b; // [
  for (let index = 0; index < data.length; index++) {
    if (index > 0) bytes[at++] = 0x2c; // ,
    at = writeFloat32(bytes, at, data[index] as number);
  }
  bytes[at++] = 0x5d; // ]
  out.length = at;
}

function writeIntegers(out: JsonWriter, data: Int32Array): void {
  const bytes = out.reserve(data.length * (INT32_TEXT_MAX + 1) + 2);
  let at = out.length;
  bytes[at++] = 0x5b; // [
  for (let index = 0; index < data.length; index++) {
    if (index > 0) bytes[at++] = 0x2c; // ,
    at = writeInteger(bytes, at, data[index] as number);
  }
  bytes[at++] = 0x5d; // ]
  out.length = at;
}

/** writeTensorData as a string. */
export function tensorDataToJson(datatype: DataType, data: TensorData): string {
  const out = new JsonWriter();
  writeTensorData(out, datatype, data);
  return decoder.decode(out.finish());
}
