import { type LatencySummary, round, summarize } from "./stats.ts";

export interface RequestShape {
  body: Uint8Array | string;
  headers: Record<string, string>;
}

export interface LoadResult {
  concurrency: number;
  throughput: number;
  latency: LatencySummary;
  errors: number;
  /** Every measured round trip, µs, for merging windows. */
  latenciesUs: number[];
  windowMs: number;
}

/** Several windows of the same load as one result. */
export function mergeResults(results: LoadResult[]): LoadResult {
  const latenciesUs = results.flatMap((result) => result.latenciesUs);
  const windowMs = results.reduce((sum, result) => sum + result.windowMs, 0);
  return {
    concurrency: results[0]?.concurrency ?? 0,
    throughput: round(latenciesUs.length / (windowMs / 1000)),
    latency: summarize(latenciesUs),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    latenciesUs,
    windowMs,
  };
}

/**
 * Keeps `concurrency` requests outstanding against one URL for a warm-up
 * and then a measurement window, as perf_analyzer's concurrency mode does.
 * Throughput counts requests completed inside the window; latencies are the
 * client-side round trips of those requests, in µs.
 */
export async function runLoad(options: {
  url: string;
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  request: RequestShape;
  onWindow?: { start(): Promise<void>; end(): Promise<void> };
}): Promise<LoadResult> {
  const { url, request } = options;
  const warmupEnd = performance.now() + options.warmupMs;
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  const latencies: number[] = [];
  let errors = 0;
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const started = performance.now();
      let ok = false;
      try {
        const response = await fetch(url, { method: "POST", body: request.body, headers: request.headers });
        await response.arrayBuffer();
        ok = response.ok;
      } catch {
        ok = false;
      }
      const finished = performance.now();
      if (started >= windowStart && finished <= windowEnd) {
        if (ok) latencies.push((finished - started) * 1000);
        else errors++;
      }
    }
  };
  const workers = Array.from({ length: options.concurrency }, worker);
  await Bun.sleep(Math.max(0, warmupEnd - performance.now()));
  await options.onWindow?.start();
  windowStart = performance.now();
  windowEnd = windowStart + options.measureMs;
  await Bun.sleep(options.measureMs);
  await options.onWindow?.end();
  stop = true;
  await Promise.all(workers);
  return {
    concurrency: options.concurrency,
    throughput: round(latencies.length / (options.measureMs / 1000)),
    latency: summarize(latencies),
    errors,
    latenciesUs: latencies,
    windowMs: options.measureMs,
  };
}
