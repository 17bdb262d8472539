import type { ModelConfig } from "../gen/model_config_pb.ts";

/**
 * Tensors the sequence batcher feeds and keeps itself: control inputs and
 * state inputs (fed), state outputs (kept). Clients never send or receive
 * them, so config `input`/`output` must not list them.
 */
export function sequenceTensorNames(config: ModelConfig): { fed: Set<string>; kept: Set<string> } {
  const scheduling = config.schedulingChoice;
  if (scheduling.case !== "sequenceBatching") return { fed: new Set(), kept: new Set() };
  const batching = scheduling.value;
  return {
    fed: new Set([
      ...batching.controlInput.map((input) => input.name),
      ...batching.state.map((state) => state.inputName),
    ]),
    kept: new Set(batching.state.map((state) => state.outputName)),
  };
}
