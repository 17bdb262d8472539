import { clone, create } from "@bufbuild/protobuf";
import { FerryError } from "../core/errors.ts";
import {
  DataType as ConfigType,
  type ModelConfig,
  ModelConfigSchema,
  ModelDynamicBatchingSchema,
  ModelInputSchema,
  ModelOutputSchema,
} from "../gen/model_config_pb.ts";
import { configDataType } from "./datatypes.ts";
import { sequenceTensorNames } from "./sequence-names.ts";
import type { ModelSignature } from "./signature.ts";

export interface AutoCompleteOptions {
  /** `--backend-config=default-max-batch-size` (Triton default 4). */
  defaultMaxBatchSize: number;
}

/**
 * Fills what the model file can tell and config.pbtxt left out, as Triton's
 * onnxruntime backend does: inputs and outputs (names, datatypes, dims),
 * `max_batch_size` (the default when the config names no tensors and every
 * tensor's first dim is dynamic), and `dynamic_batching {}` when the
 * resulting max_batch_size > 1 and no scheduler is configured. Tensors the
 * sequence batcher feeds or keeps (controls, state) are left out.
 */
export function autoComplete(
  config: ModelConfig,
  signature: ModelSignature,
  options: AutoCompleteOptions,
): ModelConfig {
  const completed = clone(ModelConfigSchema, config);
  for (const io of [...signature.inputs, ...signature.outputs]) {
    if (!io.datatype) {
      throw new FerryError(
        "INVALID_ARGUMENT",
        "config",
        `model tensor '${io.name}' has type ${io.frameworkType}, which the v2 protocol cannot carry`,
      );
    }
  }
  const tensors = [...signature.inputs, ...signature.outputs];
  const canBatch = tensors.every(
    (io) => io.shape !== undefined && io.shape.length >= 1 && io.shape[0] === -1,
  );
  if (
    completed.input.length === 0 &&
    completed.output.length === 0 &&
    completed.maxBatchSize === 0 &&
    canBatch
  ) {
    completed.maxBatchSize = options.defaultMaxBatchSize;
  }
  const batching = completed.maxBatchSize > 0;
  const { fed, kept } = sequenceTensorNames(completed);
  const dimsOf = (shape: number[] | undefined) => (shape ?? [-1]).slice(batching ? 1 : 0).map(BigInt);

  for (const io of signature.inputs) {
    if (fed.has(io.name)) continue;
    let input = completed.input.find((entry) => entry.name === io.name);
    if (!input) {
      input = create(ModelInputSchema, { name: io.name });
      completed.input.push(input);
    }
    if (input.dataType === ConfigType.TYPE_INVALID) input.dataType = configDataType(io.datatype ?? "BYTES");
    if (input.dims.length === 0 && !input.reshape) input.dims = dimsOf(io.shape);
  }
  for (const io of signature.outputs) {
    if (kept.has(io.name)) continue;
    let output = completed.output.find((entry) => entry.name === io.name);
    if (!output) {
      output = create(ModelOutputSchema, { name: io.name });
      completed.output.push(output);
    }
    if (output.dataType === ConfigType.TYPE_INVALID) output.dataType = configDataType(io.datatype ?? "BYTES");
    if (output.dims.length === 0 && !output.reshape) output.dims = dimsOf(io.shape);
  }
  if (completed.maxBatchSize > 1 && completed.schedulingChoice.case === undefined) {
    completed.schedulingChoice = { case: "dynamicBatching", value: create(ModelDynamicBatchingSchema) };
  }
  return completed;
}
