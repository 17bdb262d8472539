import type { ModelStatistics } from "./api.ts";

/** One statistics reading and when the console took it. */
export interface StatsSample {
  atMs: number;
  stats: ModelStatistics[];
}

/** What the live panel shows for one model version over the last refresh. */
export interface LiveFigures {
  key: string;
  model: string;
  version: string;
  /** Successful inferences per second since the previous sample. */
  throughput: number;
  /** Mean request latency (ms) of each refresh interval with traffic, oldest first (the window). */
  latencyMs: number[];
  /** Percentiles over the window of interval means: what the statistics extension's sums allow. */
  p50: number | undefined;
  p95: number | undefined;
  p99: number | undefined;
  /** Requests waiting, on average, by Little's law: throughput × mean queue time. */
  queueDepth: number;
  /** Executions per batch size since the server started. */
  batches: { size: number; count: number }[];
}

const key = (entry: ModelStatistics) => `${entry.name}/${entry.version}`;

/**
 * Turns successive readings of the statistics extension (cumulative counts
 * and nanosecond sums) into rates: each refresh's deltas, and latency
 * percentiles over a window of the last `window` intervals.
 */
export class LiveStats {
  private previous: StatsSample | undefined;
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly window = 30) {}

  add(sample: StatsSample): LiveFigures[] {
    const before = new Map((this.previous?.stats ?? []).map((entry) => [key(entry), entry]));
    const seconds = this.previous ? (sample.atMs - this.previous.atMs) / 1000 : 0;
    this.previous = sample;
    return sample.stats.map((entry) => {
      const old = before.get(key(entry));
      const successes = old ? entry.inference_stats.success.count - old.inference_stats.success.count : 0;
      const latencyNs = old ? entry.inference_stats.success.ns - old.inference_stats.success.ns : 0;
      const queued = old ? entry.inference_stats.queue.count - old.inference_stats.queue.count : 0;
      const queueNs = old ? entry.inference_stats.queue.ns - old.inference_stats.queue.ns : 0;
      const window = this.windows.get(key(entry)) ?? [];
      if (successes > 0) window.push(latencyNs / successes / 1e6);
      if (window.length > this.window) window.splice(0, window.length - this.window);
      this.windows.set(key(entry), window);
      const throughput = seconds > 0 ? successes / seconds : 0;
      const meanQueueSeconds = queued > 0 ? queueNs / queued / 1e9 : 0;
      return {
        key: key(entry),
        model: entry.name,
        version: entry.version,
        throughput,
        latencyMs: [...window],
        p50: percentile(window, 50),
        p95: percentile(window, 95),
        p99: percentile(window, 99),
        queueDepth: throughput * meanQueueSeconds,
        batches: entry.batch_stats.map((batch) => ({
          size: batch.batch_size,
          count: batch.compute_infer.count,
        })),
      };
    });
  }
}

/** Nearest-rank percentile; undefined for no values. */
export function percentile(values: readonly number[], rank: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((rank / 100) * sorted.length) - 1));
  return sorted[index];
}
