import type { StageClock } from "./stage-clock.ts";
import type { Tensor } from "./tensor.ts";

/** A request or tensor parameter value as every wire format can carry it. */
export type Scalar = string | number | boolean | bigint;

export interface RequestedOutput {
  name: string;
  /** Top-N classification of this output (classification extension), when > 0. */
  classification?: number;
  parameters?: Record<string, Scalar>;
}

export interface SequenceControl {
  id: bigint | string;
  start: boolean;
  end: boolean;
}

/** What a protocol adapter hands the core API, whatever the wire. */
export interface InferRequest {
  model: string;
  /** Decimal version string; absent = the highest-numbered ready version. */
  version?: string;
  id?: string;
  inputs: Tensor[];
  /** Absent = every output of the model. */
  outputs?: RequestedOutput[];
  parameters: Record<string, Scalar>;
  priority?: number;
  timeoutUs?: number;
  sequence?: SequenceControl;
  /** Client gone or cancelled: dropped from the queue, never executed. */
  signal: AbortSignal;
  /** Filled by each stage; feeds statistics, metrics and Server-Timing. */
  timing: StageClock;
  /** ferry's own readiness probe: served like any request, left out of statistics and metrics. */
  internal?: boolean;
  /**
   * Decoupled models: receives each response as the model sends it, the last
   * one flagged final; the request's own answer then carries no outputs.
   */
  onResponse?: (response: InferResponse, final: boolean) => void;
}

export interface InferResponse {
  model: string;
  version: string;
  id?: string;
  outputs: Tensor[];
  parameters?: Record<string, Scalar>;
}
