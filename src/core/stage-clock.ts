/**
 * Timestamps (ms, from performance.now()) of one request's trip through the
 * server. Stages stamp it; statistics, metrics and Server-Timing read the
 * durations from it, so every consumer sees the same numbers.
 */
export class StageClock {
  readonly received = performance.now();
  queued = 0;
  computeStart = 0;
  inferStart = 0;
  outputStart = 0;
  computeEnd = 0;
  finished = 0;

  /** Marks the start of the execution stages for every request of a batch at once. */
  static stampExecution(
    clocks: Iterable<StageClock>,
    stamps: { computeStart: number; inferStart: number; outputStart: number; computeEnd: number },
  ): void {
    for (const clock of clocks) {
      clock.computeStart = stamps.computeStart;
      clock.inferStart = stamps.inferStart;
      clock.outputStart = stamps.outputStart;
      clock.computeEnd = stamps.computeEnd;
    }
  }

  /** Durations in microseconds; a stage that never started counts 0. */
  durationsUs(): StageDurations {
    const end = this.finished || performance.now();
    const executed = this.computeEnd > 0;
    return {
      request: toUs(end - this.received),
      queue: this.queued > 0 ? toUs((this.computeStart || end) - this.queued) : 0,
      computeInput: executed ? toUs(this.inferStart - this.computeStart) : 0,
      computeInfer: executed ? toUs(this.outputStart - this.inferStart) : 0,
      computeOutput: executed ? toUs(this.computeEnd - this.outputStart) : 0,
    };
  }
}

export interface StageDurations {
  request: number;
  queue: number;
  computeInput: number;
  computeInfer: number;
  computeOutput: number;
}

function toUs(ms: number): number {
  return Math.max(0, Math.round(ms * 1000));
}
