import { FerryError } from "../core/errors.ts";
import type { ModelConfig, ModelInput, ModelOutput } from "../gen/model_config_pb.ts";
import { configTypeName, wireDataType } from "./datatypes.ts";
import { sequenceTensorNames } from "./sequence-names.ts";
import type { IoSignature, ModelSignature } from "./signature.ts";

/**
 * Checks a completed config against what the model file declares, so a
 * mismatch fails the load with a clear reason instead of failing every
 * request: every tensor exists with the same datatype and a compatible shape,
 * and a batching config has a dynamic first dimension to batch along.
 */
export function checkAgainstModelFile(config: ModelConfig, signature: ModelSignature, source: string): void {
  const problems: string[] = [];
  const batching = config.maxBatchSize > 0;
  const compare = (kind: string, tensors: (ModelInput | ModelOutput)[], declared: IoSignature[]) => {
    tensors.forEach((tensor, index) => {
      const path = `${kind}[${index}] '${tensor.name}'`;
      const io = declared.find((entry) => entry.name === tensor.name);
      if (!io) {
        problems.push(
          `${path}: not an ${kind} of the model file (it has: ${declared.map((d) => d.name).join(", ")})`,
        );
        return;
      }
      const datatype = wireDataType(tensor.dataType);
      if (io.datatype !== datatype) {
        problems.push(
          `${path}: config says ${configTypeName(tensor.dataType)}, the model file says ${io.frameworkType}`,
        );
      }
      const problem = shapeProblem(tensor, io.shape, batching, config.maxBatchSize);
      if (problem) problems.push(`${path}: ${problem}`);
    });
  };
  compare("input", config.input, signature.inputs);
  compare("output", config.output, signature.outputs);
  const { fed, kept } = sequenceTensorNames(config);
  for (const io of signature.inputs) {
    if (!fed.has(io.name) && !config.input.some((input) => input.name === io.name)) {
      problems.push(`model file input '${io.name}' is missing from the config`);
    }
  }
  for (const name of fed) {
    if (!signature.inputs.some((io) => io.name === name))
      problems.push(`sequence_batching feeds '${name}', which is not an input of the model file`);
  }
  for (const name of kept) {
    if (!signature.outputs.some((io) => io.name === name))
      problems.push(`sequence_batching keeps state from '${name}', which is not an output of the model file`);
  }
  if (problems.length > 0)
    throw new FerryError("INVALID_ARGUMENT", "config", `${source}: ${problems.join("; ")}`);
}

function shapeProblem(
  tensor: ModelInput | ModelOutput,
  modelShape: number[] | undefined,
  batching: boolean,
  maxBatchSize: number,
): string | undefined {
  if (!modelShape) return undefined;
  const configured = (tensor.reshape ? tensor.reshape.shape : tensor.dims).map(Number);
  const expected = batching ? [-1, ...configured] : configured;
  const shown = `[${expected.join(",")}]`;
  if (expected.length !== modelShape.length) {
    return `config shape ${shown} (with batch dim) has rank ${expected.length}, the model file's [${modelShape.join(",")}] has rank ${modelShape.length}`;
  }
  if (batching && modelShape[0] !== -1) {
    return `max_batch_size ${maxBatchSize} needs a dynamic first dimension, the model file fixes it to ${modelShape[0]}`;
  }
  for (let at = batching ? 1 : 0; at < expected.length; at++) {
    const model = modelShape[at] as number;
    const config = expected[at] as number;
    if (model !== -1 && config !== model) {
      return `config shape ${shown} does not match the model file's [${modelShape.join(",")}] at dim ${at}`;
    }
  }
  return undefined;
}
