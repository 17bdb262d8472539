import { arrayTypeOf, type DataType, elementByteSize, type NumericArray } from "./datatype.ts";

/** A typed array for fixed-size types, one Uint8Array per element for BYTES. */
export type TensorData = NumericArray | Uint8Array[];

export interface Tensor {
  name: string;
  datatype: DataType;
  shape: number[];
  data: TensorData;
}

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

export function isBytesData(data: TensorData): data is Uint8Array[] {
  return Array.isArray(data);
}

/** Number of elements the data holds, whatever its representation. */
export function dataLength(data: TensorData): number {
  return data.length;
}

/** Byte length of a tensor's wire form (BYTES: 4-byte length prefix per element). */
export function wireByteLength(tensor: Tensor): number {
  const data = tensor.data;
  if (isBytesData(data)) {
    let total = 0;
    for (const element of data) total += 4 + element.byteLength;
    return total;
  }
  return data.byteLength;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Datatype size check shared by decoders: the byte size a fixed-size tensor of this shape must have. */
export function expectedByteSize(datatype: DataType, shape: readonly number[]): number | undefined {
  const size = elementByteSize(datatype);
  return size === undefined ? undefined : size * elementCount(shape);
}

/** A tensor of zeros (empty strings for BYTES). */
export function zeroTensor(name: string, datatype: DataType, shape: number[]): Tensor {
  const count = elementCount(shape);
  if (datatype === "BYTES")
    return { name, datatype, shape, data: Array.from({ length: count }, () => new Uint8Array(0)) };
  return { name, datatype, shape, data: new (arrayTypeOf(datatype))(count) };
}
