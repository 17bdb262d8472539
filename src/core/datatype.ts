/** Tensor element types, named as on the v2 wire (model config names minus `TYPE_`, STRING = BYTES). */
export const DATA_TYPES = [
  "BOOL",
  "UINT8",
  "UINT16",
  "UINT32",
  "UINT64",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "FP16",
  "FP32",
  "FP64",
  "BF16",
  "BYTES",
] as const;

export type DataType = (typeof DATA_TYPES)[number];

export type NumericArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

type NumericArrayConstructor = {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** The typed array that holds each fixed-size type; BOOL is 0/1 bytes, FP16/BF16 are raw 16-bit patterns. */
const ARRAY_OF: Record<Exclude<DataType, "BYTES">, NumericArrayConstructor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
  BF16: Uint16Array,
};

const KNOWN = new Set<string>(DATA_TYPES);

export function isDataType(value: unknown): value is DataType {
  return typeof value === "string" && KNOWN.has(value);
}

/** Bytes per element, or undefined for BYTES (variable length). */
export function elementByteSize(datatype: DataType): number | undefined {
  return datatype === "BYTES" ? undefined : ARRAY_OF[datatype].BYTES_PER_ELEMENT;
}

export function arrayTypeOf(datatype: Exclude<DataType, "BYTES">): NumericArrayConstructor {
  return ARRAY_OF[datatype];
}

/** True for the types whose elements are bigint in JS. */
export function isBigIntType(datatype: DataType): datatype is "INT64" | "UINT64" {
  return datatype === "INT64" || datatype === "UINT64";
}
