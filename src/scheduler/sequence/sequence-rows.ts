import { concatAlongBatch } from "../../core/batch-split.ts";
import { type Tensor, zeroTensor } from "../../core/tensor.ts";
import type { PendingRequest } from "../pending-request.ts";
import { controlTensors } from "./controls.ts";
import type { Sequence } from "./sequence.ts";
import type { SequenceSettings } from "./sequence-config.ts";

/** A batch row: a sequence's next request, or an empty slot (direct strategy keeps slots in place). */
export type Row = { sequence: Sequence; pending: PendingRequest } | undefined;

/**
 * The inputs of one sequence execution: client inputs per row (zeros for
 * empty slots), the control tensors, and each state input — the sequence's
 * last state output, or the initial state on its first request.
 */
export function sequenceInputs(
  rows: readonly Row[],
  settings: SequenceSettings,
  initialStates: ReadonlyMap<string, Tensor>,
  batched: boolean,
): Tensor[] {
  const template = rows.find((row) => row !== undefined)?.pending.request.inputs ?? [];
  const join = (parts: Tensor[]) => (batched ? concatAlongBatch(parts) : (parts[0] as Tensor));
  const inputs = template.map((input) =>
    join(
      rows.map(
        (row) =>
          row?.pending.request.inputs.find((candidate) => candidate.name === input.name) ?? zerosLike(input),
      ),
    ),
  );
  const controls = controlTensors(
    settings.controls,
    rows.map((row) => row?.pending.request.sequence),
    batched,
  );
  const states = settings.states.map((state) => {
    const initial = initialStates.get(state.input) as Tensor;
    return join(
      rows.map((row) => {
        if (!row || row.pending.request.sequence?.start) return initial;
        return row.sequence.state.get(state.input) ?? initial;
      }),
    );
  });
  return [...inputs, ...controls, ...states];
}

/** A zero-filled (empty-string for BYTES) copy of one row's shape. */
export function zerosLike(tensor: Tensor): Tensor {
  return zeroTensor(tensor.name, tensor.datatype, [1, ...tensor.shape.slice(1)]);
}

/** Keeps a state output as the next state input, copied out of the batch buffer. */
export function keepState(sequence: Sequence, inputName: string, output: Tensor): void {
  const data = Array.isArray(output.data) ? [...output.data] : output.data.slice();
  sequence.state.set(inputName, { ...output, name: inputName, data });
}
