import { elementCount, type Tensor } from "./tensor.ts";

/**
 * Splits a batched tensor back into one tensor per request along dim 0.
 * Numeric data is split by subarray views, not copied.
 */
export function splitAlongBatch(tensor: Tensor, sizes: readonly number[]): Tensor[] {
  if (sizes.length === 1) return [tensor];
  const perRow = elementCount(tensor.shape.slice(1));
  const parts: Tensor[] = [];
  let row = 0;
  for (const size of sizes) {
    const start = row * perRow;
    const end = (row + size) * perRow;
    const data = subarrayOf(tensor.data, start, end);
    parts.push({
      name: tensor.name,
      datatype: tensor.datatype,
      shape: [size, ...tensor.shape.slice(1)],
      data,
    });
    row += size;
  }
  return parts;
}

function subarrayOf(data: Tensor["data"], start: number, end: number): Tensor["data"] {
  return Array.isArray(data) ? data.slice(start, end) : data.subarray(start, end);
}

/** Joins the same input of several requests along dim 0 with one copy into one buffer. */
export function concatAlongBatch(parts: readonly Tensor[]): Tensor {
  const first = parts[0];
  if (!first) throw new Error("concatAlongBatch needs at least one tensor");
  if (parts.length === 1) return first;
  let rows = 0;
  for (const part of parts) rows += part.shape[0] ?? 0;
  const shape = [rows, ...first.shape.slice(1)];
  if (Array.isArray(first.data)) {
    const elements: Uint8Array[] = [];
    for (const part of parts) elements.push(...(part.data as Uint8Array[]));
    return { name: first.name, datatype: first.datatype, shape, data: elements };
  }
  const contiguous = contiguousView(parts);
  if (contiguous) return { name: first.name, datatype: first.datatype, shape, data: contiguous };
  const ArrayType = first.data.constructor as new (length: number) => typeof first.data;
  let total = 0;
  for (const part of parts) total += part.data.length;
  const joined = new ArrayType(total) as Exclude<Tensor["data"], Uint8Array[]>;
  let offset = 0;
  for (const part of parts) {
    const data = part.data as typeof joined;
    // biome-ignore lint/suspicious/noExplicitAny: every numeric typed array has set(); the union defeats TS here
    (joined as any).set(data, offset);
    offset += data.length;
  }
  return { name: first.name, datatype: first.datatype, shape, data: joined };
}

/**
 * Parts that are consecutive views of one buffer (a batch split for its
 * requests, then sent on) join as one view over them, without a copy.
 */
function contiguousView(parts: readonly Tensor[]): Tensor["data"] | undefined {
  const first = parts[0]?.data;
  if (!first || Array.isArray(first)) return undefined;
  let end = first.byteOffset + first.byteLength;
  for (const part of parts.slice(1)) {
    const data = part.data;
    if (Array.isArray(data) || data.buffer !== first.buffer || data.byteOffset !== end) return undefined;
    end += data.byteLength;
  }
  const ArrayType = first.constructor as new (
    buffer: ArrayBufferLike,
    offset: number,
    length: number,
  ) => typeof first;
  return new ArrayType(first.buffer, first.byteOffset, (end - first.byteOffset) / first.BYTES_PER_ELEMENT);
}
