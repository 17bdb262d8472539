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

/** One request of the load; resolves true when it succeeded. */
export type Send = () => Promise<boolean>;

/** An HTTP sender: POSTs the same body each time and reads the whole answer. */
export function httpSender(url: string, request: RequestShape): Send {
  return async () => {
    const response = await fetch(url, { method: "POST", body: request.body, headers: request.headers });
    await response.arrayBuffer();
    return response.ok;
  };
}

/**
 * Keeps `concurrency` requests outstanding for a warm-up and then a
 * measurement window, as perf_analyzer's concurrency mode does. Throughput
 * counts requests completed inside the window; latencies are the
 * client-side round trips of those requests, in µs.
 */
export async function runLoad(options: {
  url?: string;
  request?: RequestShape;
  /** Overrides url/request: any protocol's single request. */
  send?: Send;
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  onWindow?: { start(): Promise<void>; end(): Promise<void> };
}): Promise<LoadResult> {
  const send = options.send ?? httpSender(options.url as string, options.request as RequestShape);
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
        ok = await send();
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
