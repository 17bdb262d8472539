import { bfloat16ToNumber, halfToNumber } from "../core/float16.ts";
import { elementCount, type Tensor } from "../core/tensor.ts";

const encoder = new TextEncoder();

/**
 * Classification extension: the top `count` entries of each batch row as
 * BYTES "value:index[:label]", highest first. Values print as Triton does
 * (floats with six decimals, integers as they are).
 */
export function classify(
  tensor: Tensor,
  count: number,
  batched: boolean,
  labels?: readonly string[],
): Tensor {
  const rows = batched ? (tensor.shape[0] ?? 1) : 1;
  const perRow = rows === 0 ? 0 : elementCount(tensor.shape) / rows;
  const take = Math.min(count, perRow);
  const values = numericValues(tensor);
  const isFloat = ["FP16", "BF16", "FP32", "FP64"].includes(tensor.datatype);
  const out: Uint8Array[] = [];
  for (let row = 0; row < rows; row++) {
    const indices = Array.from({ length: perRow }, (_, i) => i);
    const base = row * perRow;
    indices.sort((a, b) => (values[base + b] as number) - (values[base + a] as number));
    for (const index of indices.slice(0, take)) {
      const value = values[base + index] as number;
      const text = isFloat ? value.toFixed(6) : String(value);
      const label = labels?.[index];
      out.push(encoder.encode(label === undefined ? `${text}:${index}` : `${text}:${index}:${label}`));
    }
  }
  return { name: tensor.name, datatype: "BYTES", shape: batched ? [rows, take] : [take], data: out };
}

function numericValues(tensor: Tensor): number[] {
  const data = tensor.data;
  if (Array.isArray(data))
    throw new Error(`classification needs a numeric output, '${tensor.name}' is BYTES`);
  if (tensor.datatype === "FP16") return Array.from(data as Uint16Array, halfToNumber);
  if (tensor.datatype === "BF16") return Array.from(data as Uint16Array, bfloat16ToNumber);
  return Array.from(data as ArrayLike<number | bigint>, Number);
}
