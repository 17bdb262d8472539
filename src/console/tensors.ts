import { arrayTypeOf, type DataType, isDataType, type NumericArray } from "../core/datatype.ts";
import { bfloat16ToNumber, halfToNumber, numberToBfloat16, numberToHalf } from "../core/float16.ts";
import { elementCount, type TensorData } from "../core/tensor.ts";
import { decodeTensorBytes, encodeTensorBytes } from "../core/wire-bytes.ts";

/** A shape from metadata made concrete for a first request: variable dims (-1) become 1. */
export function defaultShape(shape: readonly number[]): number[] {
  return shape.map((dim) => (dim < 0 ? 1 : dim));
}

/** "1, 16" or "[1,16]" → [1, 16]. */
export function parseShape(text: string): number[] {
  const dims = text
    .replace(/[[\]]/g, "")
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  if (dims.some((dim) => !Number.isInteger(dim) || dim < 0))
    throw new Error(`shape '${text}' is not dims ≥ 0`);
  return dims;
}

/**
 * What the user typed → the tensor's raw little-endian bytes (gRPC
 * raw_input_contents). Numbers are separated by commas or spaces; BYTES
 * elements are one per line.
 */
export function encodeInput(datatype: string, shape: number[], text: string): Uint8Array {
  const type = knownType(datatype);
  const count = elementCount(shape);
  const values =
    type === "BYTES" ? text.split("\n") : text.split(/[\s,]+/).filter((value) => value.trim() !== "");
  if (values.length !== count)
    throw new Error(`${values.length} value(s) given, shape [${shape.join(", ")}] needs ${count}`);
  return encodeTensorBytes({ name: "", datatype: type, shape, data: tensorData(type, values) });
}

/** Raw output bytes → one display string per element. */
export function decodeOutput(datatype: string, shape: number[], bytes: Uint8Array): string[] {
  const type = knownType(datatype);
  const data = decodeTensorBytes(type, shape, bytes, "output");
  if (Array.isArray(data)) return data.map((element) => new TextDecoder().decode(element));
  if (type === "FP16") return Array.from(data as Uint16Array, (bits) => String(halfToNumber(bits)));
  if (type === "BF16") return Array.from(data as Uint16Array, (bits) => String(bfloat16ToNumber(bits)));
  return Array.from(data as ArrayLike<number | bigint>, (value) => String(value));
}

/** BYTES elements (UTF-8 text or file contents) in their wire form: a 4-byte length before each. */
export function bytesElements(elements: readonly Uint8Array[]): Uint8Array {
  return encodeTensorBytes({ name: "", datatype: "BYTES", shape: [elements.length], data: [...elements] });
}

function tensorData(type: DataType, values: string[]): TensorData {
  if (type === "BYTES") return values.map((value) => new TextEncoder().encode(value));
  const numbers = values.map((value) => {
    const number = type === "BOOL" ? (value === "true" || value === "1" ? 1 : 0) : Number(value);
    if (Number.isNaN(number)) throw new Error(`'${value}' is not a number`);
    return number;
  });
  switch (type) {
    case "FP16":
      return Uint16Array.from(numbers, numberToHalf);
    case "BF16":
      return Uint16Array.from(numbers, numberToBfloat16);
    case "BOOL":
      return Uint8Array.from(numbers);
    case "INT64":
    case "UINT64":
      return bigInts(type, values);
    default:
      return numericArray(type, numbers);
  }
}

function bigInts(type: "INT64" | "UINT64", values: string[]): TensorData {
  const parsed = values.map((value) => BigInt(value.trim()));
  return type === "INT64" ? BigInt64Array.from(parsed) : BigUint64Array.from(parsed);
}

function numericArray(type: Exclude<DataType, "BYTES">, numbers: number[]): TensorData {
  const array = new (arrayTypeOf(type))(numbers.length) as Exclude<
    NumericArray,
    BigInt64Array | BigUint64Array
  >;
  array.set(numbers);
  return array;
}

function knownType(datatype: string): DataType {
  if (!isDataType(datatype)) throw new Error(`unknown datatype '${datatype}'`);
  return datatype;
}
