import { wireDataType } from "../../config/datatypes.ts";
import { StageClock } from "../../core/stage-clock.ts";
import { type Tensor, zeroTensor } from "../../core/tensor.ts";
import type { ModelConfig } from "../../gen/model_config_pb.ts";
import type { Batch, ModelInstance } from "../backend.ts";

/**
 * The largest batch the scheduler can hand an instance, as zeros: every
 * input at max_batch_size rows (one for a model that does not batch).
 * Undefined where that batch cannot be known: a variable dimension other
 * than the batch's (its size comes from clients), or a sequence model
 * (control inputs and state come from the sequence batcher).
 */
export function largestBatchOfZeros(config: ModelConfig): Batch | undefined {
  if (config.schedulingChoice.case === "sequenceBatching" || config.input.length === 0) return undefined;
  const rows = Math.max(1, config.maxBatchSize);
  const inputs: Tensor[] = [];
  for (const input of config.input) {
    const datatype = wireDataType(input.dataType);
    const dims = (input.reshape?.shape.length ? input.reshape.shape : input.dims).map(Number);
    if (!datatype || dims.some((dim) => dim < 0)) return undefined;
    inputs.push(zeroTensor(input.name, datatype, config.maxBatchSize > 0 ? [rows, ...dims] : dims));
  }
  return {
    inputs,
    sizes: [rows],
    outputs: config.output.map((output) => output.name),
    clocks: [new StageClock()],
  };
}

/**
 * Milliseconds an execution of `batch` takes on `instance`: the faster of
 * two (the first also allocates), or the first alone when it is already far
 * over `enough`. Undefined if it failed.
 */
export async function timeExecution(
  instance: ModelInstance,
  batch: Batch,
  enough: number,
): Promise<number | undefined> {
  const once = async () => {
    const started = performance.now();
    const [result] = await instance.execute(batch);
    return Array.isArray(result) ? performance.now() - started : undefined;
  };
  try {
    const first = await once();
    if (first === undefined || first > 10 * enough) return first;
    const second = await once();
    return second === undefined ? undefined : Math.min(first, second);
  } catch {
    return undefined;
  }
}
