import type { JsonObject } from "@bufbuild/protobuf";
import type { FailureReason, InferenceObserver } from "../core/observer.ts";
import type { StageClock } from "../core/stage-clock.ts";

interface Duration {
  count: number;
  ns: number;
}

interface BatchStats {
  compute_input: Duration;
  compute_infer: Duration;
  compute_output: Duration;
}

const zero = (): Duration => ({ count: 0, ns: 0 });
const add = (duration: Duration, us: number) => {
  duration.count++;
  duration.ns += us * 1000;
};

/**
 * The statistics extension's numbers for one model version, cumulative since
 * load: per-request success/fail/queue/compute durations (ns) with counts,
 * inference vs execution counts, and per-batch-size execution durations.
 * Fed by the same observer events as the Prometheus metrics.
 */
export class VersionStatistics implements InferenceObserver {
  private lastInferenceMs = 0;
  private inferenceCount = 0;
  private executionCount = 0;
  private readonly success = zero();
  private readonly fail = zero();
  private readonly queue = zero();
  private readonly computeInput = zero();
  private readonly computeInfer = zero();
  private readonly computeOutput = zero();
  private readonly batches = new Map<number, BatchStats>();

  constructor(
    readonly model: string,
    readonly version: string,
  ) {}

  queued(): void {}

  dequeued(): void {}

  executed(batchSize: number, clocks: readonly StageClock[]): void {
    this.executionCount++;
    const clock = clocks[0];
    if (!clock) return;
    let stats = this.batches.get(batchSize);
    if (!stats) {
      stats = { compute_input: zero(), compute_infer: zero(), compute_output: zero() };
      this.batches.set(batchSize, stats);
    }
    const durations = clock.durationsUs();
    add(stats.compute_input, durations.computeInput);
    add(stats.compute_infer, durations.computeInfer);
    add(stats.compute_output, durations.computeOutput);
  }

  succeeded(batchSize: number, clock: StageClock): void {
    this.lastInferenceMs = Date.now();
    this.inferenceCount += batchSize;
    const durations = clock.durationsUs();
    add(this.success, durations.request);
    add(this.queue, durations.queue);
    add(this.computeInput, durations.computeInput);
    add(this.computeInfer, durations.computeInfer);
    add(this.computeOutput, durations.computeOutput);
  }

  failed(_reason: FailureReason, clock: StageClock): void {
    this.lastInferenceMs = Date.now();
    add(this.fail, clock.durationsUs().request);
  }

  /** The `$model_stat` object of the statistics extension. */
  toJson(): JsonObject {
    const copy = (duration: Duration) => ({ count: duration.count, ns: duration.ns });
    return {
      name: this.model,
      version: this.version,
      last_inference: this.lastInferenceMs,
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: copy(this.success),
        fail: copy(this.fail),
        queue: copy(this.queue),
        compute_input: copy(this.computeInput),
        compute_infer: copy(this.computeInfer),
        compute_output: copy(this.computeOutput),
        cache_hit: copy(zero()),
        cache_miss: copy(zero()),
      },
      response_stats: {},
      batch_stats: [...this.batches.entries()]
        .sort(([a], [b]) => a - b)
        .map(([batchSize, stats]) => ({
          batch_size: batchSize,
          compute_input: copy(stats.compute_input),
          compute_infer: copy(stats.compute_infer),
          compute_output: copy(stats.compute_output),
        })),
      memory_usage: [],
    };
  }
}
