import type { StageClock } from "./stage-clock.ts";

/** Why a request failed, as Triton's `nv_inference_request_failure{reason}` counts it. */
export type FailureReason = "REJECTED" | "CANCELED" | "BACKEND" | "OTHER";

/**
 * What the request path reports as it happens. Metrics and statistics both
 * listen here, so neither is computed by a protocol adapter.
 */
export interface InferenceObserver {
  /** A request entered the scheduler queue (pending +1). */
  queued(): void;
  /** A queued request left the queue, executed or not (pending -1). */
  dequeued(): void;
  /** One model execution of `batchSize` elements carried `clocks.length` requests. */
  executed(batchSize: number, clocks: readonly StageClock[]): void;
  succeeded(batchSize: number, clock: StageClock): void;
  failed(reason: FailureReason, clock: StageClock): void;
  /** The model has a latency objective (`ferry.latency_objective_ms`). */
  objectiveSet?(objectiveMs: number, percentile: number): void;
  /** The adaptive batcher's latest choice: wait this long (0: run now) for a batch of `targetSize`. */
  batchingDecided?(waitUs: number, targetSize: number): void;
  /** A request was answered within its model's latency objective, or after it. */
  objectiveOutcome?(within: boolean): void;
  /** A request was failed early because it could no longer meet the objective. */
  rejectedLate?(): void;
}

export const silentObserver: InferenceObserver = {
  queued() {},
  dequeued() {},
  executed() {},
  succeeded() {},
  failed() {},
};

/** One observer that tells several (metrics and statistics). */
export function combineObservers(...observers: InferenceObserver[]): InferenceObserver {
  return {
    queued: () => {
      for (const observer of observers) observer.queued();
    },
    dequeued: () => {
      for (const observer of observers) observer.dequeued();
    },
    executed: (batchSize, clocks) => {
      for (const observer of observers) observer.executed(batchSize, clocks);
    },
    succeeded: (batchSize, clock) => {
      for (const observer of observers) observer.succeeded(batchSize, clock);
    },
    failed: (reason, clock) => {
      for (const observer of observers) observer.failed(reason, clock);
    },
    objectiveSet: (objectiveMs, percentile) => {
      for (const observer of observers) observer.objectiveSet?.(objectiveMs, percentile);
    },
    batchingDecided: (waitUs, targetSize) => {
      for (const observer of observers) observer.batchingDecided?.(waitUs, targetSize);
    },
    objectiveOutcome: (within) => {
      for (const observer of observers) observer.objectiveOutcome?.(within);
    },
    rejectedLate: () => {
      for (const observer of observers) observer.rejectedLate?.();
    },
  };
}
