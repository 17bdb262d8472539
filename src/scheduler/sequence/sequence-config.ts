import { wireDataType } from "../../config/datatypes.ts";
import type { DataType } from "../../core/datatype.ts";
import {
  ModelSequenceBatching_Control_Kind as ControlKind,
  type ModelConfig,
  type ModelSequenceBatching,
} from "../../gen/model_config_pb.ts";

export type ControlRole = "start" | "end" | "ready" | "corrid";

/** One control tensor the batcher writes for the model. */
export interface ControlSpec {
  input: string;
  role: ControlRole;
  datatype: DataType;
  /** [false, true] values for start/end/ready. */
  falseTrue: [number, number];
}

/** An implicit state pair: output of request k feeds the input of request k+1. */
export interface StateSpec {
  input: string;
  output: string;
  datatype: DataType;
  dims: number[];
}

export interface SequenceSettings {
  strategy: "direct" | "oldest";
  idleMs: number;
  /** Sequences one instance holds at once: its batch slots (direct) or candidates (oldest). */
  slotsPerInstance: number;
  /** New sequences allowed to wait for a slot; more are refused. */
  backlogLimit: number;
  maxDelayMs: number;
  /** direct: wait for this fraction of slots to be ready (with the delay). */
  minimumSlotUtilization: number;
  preferredSizes: number[];
  preserveOrdering: boolean;
  controls: ControlSpec[];
  states: StateSpec[];
}

const ROLE: Record<number, ControlRole> = {
  [ControlKind.CONTROL_SEQUENCE_START]: "start",
  [ControlKind.CONTROL_SEQUENCE_END]: "end",
  [ControlKind.CONTROL_SEQUENCE_READY]: "ready",
  [ControlKind.CONTROL_SEQUENCE_CORRID]: "corrid",
};

/** `sequence_batching` in the units the batcher uses (validated before: see config/validate.ts). */
export function sequenceSettings(
  config: ModelConfig,
  batching: ModelSequenceBatching,
  instances: number,
): SequenceSettings {
  const batchRows = Math.max(1, config.maxBatchSize);
  const strategy = batching.strategyChoice;
  const oldest = strategy.case === "oldest" ? strategy.value : undefined;
  const direct = strategy.case === "direct" ? strategy.value : undefined;
  const slotsPerInstance =
    oldest && oldest.maxCandidateSequences > 0 ? oldest.maxCandidateSequences : batchRows;
  const idleUs = Number(batching.maxSequenceIdleMicroseconds) || 1_000_000;
  const backlog = Number(config.parameters.max_sequence_backlog?.stringValue ?? slotsPerInstance * instances);
  return {
    strategy: oldest ? "oldest" : "direct",
    idleMs: idleUs / 1000,
    slotsPerInstance,
    backlogLimit: Number.isFinite(backlog) ? backlog : slotsPerInstance * instances,
    maxDelayMs: Number((oldest ?? direct)?.maxQueueDelayMicroseconds ?? 0n) / 1000,
    minimumSlotUtilization: direct?.minimumSlotUtilization ?? 0,
    preferredSizes: [...(oldest?.preferredBatchSize ?? [])].sort((a, b) => a - b),
    preserveOrdering: oldest?.preserveOrdering ?? false,
    controls: batching.controlInput.flatMap((input) =>
      input.control.map((control) => {
        const role = ROLE[control.kind] ?? "start";
        if (role === "corrid") {
          return {
            input: input.name,
            role,
            datatype: wireDataType(control.dataType) ?? "UINT64",
            falseTrue: [0, 0],
          };
        }
        if (control.boolFalseTrue.length === 2) {
          return {
            input: input.name,
            role,
            datatype: "BOOL",
            falseTrue: control.boolFalseTrue.map(Number) as [number, number],
          };
        }
        if (control.fp32FalseTrue.length === 2) {
          return {
            input: input.name,
            role,
            datatype: "FP32",
            falseTrue: control.fp32FalseTrue as [number, number],
          };
        }
        return {
          input: input.name,
          role,
          datatype: "INT32",
          falseTrue: control.int32FalseTrue as [number, number],
        };
      }),
    ),
    states: batching.state.map((state) => ({
      input: state.inputName,
      output: state.outputName,
      datatype: wireDataType(state.dataType) ?? "FP32",
      dims: state.dims.map(Number),
    })),
  };
}

/** Names the batcher feeds itself: the model reads them, clients never send them. */
export function injectedInputNames(batching: ModelSequenceBatching): string[] {
  return [
    ...batching.controlInput.map((input) => input.name),
    ...batching.state.map((state) => state.inputName),
  ];
}

/** State outputs: the batcher keeps them, clients never receive them. */
export function stateOutputNames(batching: ModelSequenceBatching): string[] {
  return batching.state.map((state) => state.outputName);
}
