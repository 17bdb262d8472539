import { arrayTypeOf, type DataType } from "./datatype.ts";
import { invalidArgument, type Layer } from "./errors.ts";
import { elementCount, type Tensor, type TensorData } from "./tensor.ts";

/**
 * Raw little-endian tensor bytes (binary HTTP extension, gRPC raw contents) to
 * TensorData. Fixed-size types become a typed-array view of the same memory
 * when the offset is aligned, and a copy only when it is not. `where` names
 * the tensor in errors ("input 'x'").
 */
export function decodeTensorBytes(
  datatype: DataType,
  shape: readonly number[],
  bytes: Uint8Array,
  where: string,
  layer: Layer = "protocol",
): TensorData {
  const count = elementCount(shape);
  if (datatype === "BYTES") return decodeBytesElements(bytes, count, where, layer);
  const ArrayType = arrayTypeOf(datatype);
  const expected = count * ArrayType.BYTES_PER_ELEMENT;
  if (bytes.byteLength !== expected) {
    throw invalidArgument(
      layer,
      `${where}: ${bytes.byteLength} bytes of ${datatype} data do not match shape [${shape.join(",")}], which needs ${expected}`,
    );
  }
  if (bytes.byteOffset % ArrayType.BYTES_PER_ELEMENT === 0) {
    return new ArrayType(bytes.buffer, bytes.byteOffset, count);
  }
  const aligned = new Uint8Array(expected);
  aligned.set(bytes);
  return new ArrayType(aligned.buffer, 0, count);
}

/** BYTES wire form: each element is a 4-byte little-endian length then that many bytes. */
export function decodeBytesElements(
  bytes: Uint8Array,
  count: number,
  where: string,
  layer: Layer,
): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (offset + 4 > bytes.byteLength) {
      throw invalidArgument(
        layer,
        `${where}: BYTES data ends inside the length prefix of element ${elements.length}`,
      );
    }
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > bytes.byteLength) {
      throw invalidArgument(
        layer,
        `${where}: BYTES element ${elements.length} claims ${length} bytes but only ${bytes.byteLength - offset} remain`,
      );
    }
    elements.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  if (elements.length !== count) {
    throw invalidArgument(layer, `${where}: got ${elements.length} BYTES elements, shape needs ${count}`);
  }
  return elements;
}

/** The wire bytes of a tensor: a view for fixed-size types, the length-prefixed encoding for BYTES. */
export function encodeTensorBytes(tensor: Tensor): Uint8Array {
  const data = tensor.data;
  if (!Array.isArray(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let total = 0;
  for (const element of data) total += 4 + element.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const element of data) {
    view.setUint32(offset, element.byteLength, true);
    out.set(element, offset + 4);
    offset += 4 + element.byteLength;
  }
  return out;
}
