import type { ModelInterface } from "../config/model-interface.ts";
import { FerryError, invalidArgument } from "../core/errors.ts";
import type { InferRequest } from "../core/request.ts";
import { elementCount, formatShape, type Tensor } from "../core/tensor.ts";

/**
 * Checks a request against the model's config before it is queued, so a bad
 * request never occupies a queue slot or reaches the session. Returns the
 * inputs in the shape the backend expects (config `reshape` applied) and
 * the request's batch size (1 for a non-batching model).
 */
export function checkRequest(
  model: ModelInterface,
  request: InferRequest,
): { inputs: Tensor[]; batchSize: number } {
  const where = `model '${model.name}'`;
  const seen = new Set<string>();
  let batchSize: number | undefined;
  const inputs: Tensor[] = [];
  for (const input of request.inputs) {
    const spec = model.inputs.find((candidate) => candidate.name === input.name);
    if (!spec) {
      const known = model.inputs.map((candidate) => candidate.name).join(", ");
      throw invalidArgument("backend", `${where} has no input '${input.name}' (inputs: ${known})`);
    }
    if (seen.has(input.name))
      throw invalidArgument("backend", `${where} input '${input.name}' is given twice`);
    seen.add(input.name);
    if (input.datatype !== spec.datatype) {
      throw invalidArgument(
        "backend",
        `${where} input '${input.name}' expects ${spec.datatype}, got ${input.datatype}`,
      );
    }
    const rowShape = model.maxBatchSize > 0 ? input.shape.slice(1) : input.shape;
    if (model.maxBatchSize > 0) {
      const size = checkBatchDim(model, input);
      if (batchSize !== undefined && size !== batchSize) {
        throw invalidArgument(
          "backend",
          `${where} inputs disagree on batch size: ${batchSize} and ${size} (input '${input.name}')`,
        );
      }
      batchSize = size;
    }
    if (!shapeMatches(rowShape, spec.dims)) {
      const expected = formatShape(model.maxBatchSize > 0 ? [-1, ...spec.dims] : spec.dims);
      throw invalidArgument(
        "backend",
        `${where} input '${input.name}' has shape ${formatShape(input.shape)}, expected ${expected}`,
      );
    }
    if (input.data.length !== elementCount(input.shape)) {
      throw invalidArgument(
        "backend",
        `${where} input '${input.name}' holds ${input.data.length} elements but shape ${formatShape(input.shape)} needs ${elementCount(input.shape)}`,
      );
    }
    inputs.push(spec.reshape ? reshaped(input, spec.reshape, model.maxBatchSize > 0) : input);
  }
  for (const spec of model.inputs) {
    if (!spec.optional && !seen.has(spec.name)) {
      throw invalidArgument("backend", `${where} needs input '${spec.name}', which the request lacks`);
    }
  }
  checkRequestedOutputs(model, request);
  return { inputs, batchSize: batchSize ?? 1 };
}

function checkBatchDim(model: ModelInterface, input: Tensor): number {
  const size = input.shape[0];
  if (size === undefined) {
    throw invalidArgument(
      "backend",
      `model '${model.name}' input '${input.name}' needs a batch dimension (max_batch_size ${model.maxBatchSize})`,
    );
  }
  if (size < 1 || size > model.maxBatchSize) {
    throw invalidArgument(
      "backend",
      `model '${model.name}' input '${input.name}' batch size ${size} is outside [1, ${model.maxBatchSize}] (max_batch_size)`,
    );
  }
  return size;
}

function checkRequestedOutputs(model: ModelInterface, request: InferRequest): void {
  const seen = new Set<string>();
  for (const output of request.outputs ?? []) {
    if (!model.outputs.some((candidate) => candidate.name === output.name)) {
      const known = model.outputs.map((spec) => spec.name).join(", ");
      throw invalidArgument(
        "backend",
        `model '${model.name}' has no output '${output.name}' (outputs: ${known})`,
      );
    }
    if (seen.has(output.name)) throw invalidArgument("backend", `output '${output.name}' is requested twice`);
    const spec = model.outputs.find((candidate) => candidate.name === output.name);
    if (output.classification && spec?.datatype === "BYTES") {
      throw invalidArgument(
        "backend",
        `model '${model.name}' output '${output.name}' is BYTES: classification needs a numeric output`,
      );
    }
    seen.add(output.name);
  }
}

function shapeMatches(shape: readonly number[], dims: readonly number[]): boolean {
  if (shape.length !== dims.length) return false;
  return shape.every((dim, at) => dim >= 0 && (dims[at] === -1 || dims[at] === dim));
}

/** Config `reshape`: same elements, the backend's shape (one -1 resolved from the element count). */
export function reshaped(tensor: Tensor, target: readonly number[], batched: boolean): Tensor {
  const rows = batched ? (tensor.shape[0] ?? 1) : 1;
  const perRow = elementCount(batched ? tensor.shape.slice(1) : tensor.shape);
  const known = target.filter((dim) => dim !== -1).reduce((product, dim) => product * dim, 1);
  const resolved = target.map((dim) => (dim === -1 ? (known === 0 ? 0 : perRow / known) : dim));
  if (elementCount(resolved) !== perRow || !resolved.every(Number.isInteger)) {
    throw new FerryError(
      "INVALID_ARGUMENT",
      "backend",
      `tensor '${tensor.name}' of shape ${formatShape(tensor.shape)} cannot be reshaped to ${formatShape(target)}`,
    );
  }
  return { ...tensor, shape: batched ? [rows, ...resolved] : resolved };
}
