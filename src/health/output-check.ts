import type { TensorSpec } from "../config/tensor-spec.ts";
import { bfloat16ToNumber, halfToNumber } from "../core/float16.ts";
import { formatShape, type Tensor } from "../core/tensor.ts";

/**
 * Why outputs are not fit to serve, or undefined when they are: every
 * declared output present, of its declared shape (-1 matches anything),
 * and no NaN or infinity in floating-point outputs.
 */
export function outputProblem(
  outputs: readonly Tensor[],
  specs: readonly TensorSpec[],
  batchRows: number | undefined,
): string | undefined {
  for (const spec of specs) {
    const tensor = outputs.find((candidate) => candidate.name === spec.name);
    if (!tensor) continue;
    const expected = batchRows === undefined ? spec.dims : [batchRows, ...spec.dims];
    const fits =
      tensor.shape.length === expected.length &&
      tensor.shape.every((dim, at) => expected[at] === -1 || expected[at] === dim);
    if (!fits)
      return `output '${spec.name}' has shape ${formatShape(tensor.shape)}, declared ${formatShape(expected)}`;
    const bad = firstNonFinite(tensor);
    if (bad !== undefined) return `output '${spec.name}' holds ${bad.value} at element ${bad.at}`;
  }
  return undefined;
}

function firstNonFinite(tensor: Tensor): { at: number; value: number } | undefined {
  const data = tensor.data;
  if (Array.isArray(data)) return undefined;
  const read =
    tensor.datatype === "FP16"
      ? (at: number) => halfToNumber(data[at] as number)
      : tensor.datatype === "BF16"
        ? (at: number) => bfloat16ToNumber(data[at] as number)
        : tensor.datatype === "FP32" || tensor.datatype === "FP64"
          ? (at: number) => data[at] as number
          : undefined;
  if (!read) return undefined;
  for (let at = 0; at < data.length; at++) {
    const value = read(at);
    if (!Number.isFinite(value)) return { at, value };
  }
  return undefined;
}
