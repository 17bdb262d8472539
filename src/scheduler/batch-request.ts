import type { BatchRequest } from "../backends/backend.ts";
import type { InferRequest } from "../core/request.ts";

/** What an instance may read of a request besides its tensors (model code sees it). */
export function batchRequest(
  request: InferRequest,
  allOutputs: readonly string[],
  /** Outputs the scheduler itself needs whatever the client asked (a sequence's state). */
  needed: readonly string[] = [],
): BatchRequest {
  const asked = request.outputs?.map((output) => output.name) ?? allOutputs;
  const entry: BatchRequest = {
    id: request.id,
    parameters: request.parameters,
    sequence: request.sequence,
    signal: request.signal,
    outputs: [...new Set([...asked, ...needed])],
  };
  const listener = request.onResponse;
  if (listener) {
    entry.onResponse = (outputs, final) =>
      listener(
        {
          model: request.model,
          version: request.version ?? "",
          outputs,
          ...(request.id === undefined ? {} : { id: request.id }),
        },
        final,
      );
  }
  return entry;
}
