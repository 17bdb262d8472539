import { describe, expect, it } from "bun:test";
import type { ModelStatistics } from "../../src/console/api.ts";
import { LiveStats, percentile } from "../../src/console/live-stats.ts";

/** A statistics reading of `simple` v1 after `successes` requests of `latencyMs` each, `queueMs` of it queued. */
function reading(successes: number, latencyMs: number, queueMs: number, batches: [number, number][] = []) {
  const ns = (ms: number) => ms * 1e6 * successes;
  const stats: ModelStatistics = {
    name: "simple",
    version: "1",
    inference_count: successes,
    execution_count: successes,
    inference_stats: {
      success: { count: successes, ns: ns(latencyMs) },
      fail: { count: 0, ns: 0 },
      queue: { count: successes, ns: ns(queueMs) },
      compute_infer: { count: successes, ns: 0 },
    },
    batch_stats: batches.map(([size, count]) => ({ batch_size: size, compute_infer: { count, ns: 0 } })),
  };
  return stats;
}

describe("LiveStats", () => {
  it("shows nothing moving on the first reading", () => {
    const [figures] = new LiveStats().add({ atMs: 0, stats: [reading(10, 5, 1)] });
    expect(figures).toMatchObject({ key: "simple/1", throughput: 0, p50: undefined, queueDepth: 0 });
  });

  it("turns cumulative sums into throughput, interval latency and queue depth", () => {
    const live = new LiveStats();
    live.add({ atMs: 0, stats: [reading(10, 5, 1)] });
    // 40 more requests in 2 s; the running totals now average 5 ms over 50 requests.
    const next = reading(50, 5, 1, [
      [1, 30],
      [4, 5],
    ]);
    next.inference_stats.success.ns = 10 * 5e6 + 40 * 10e6;
    next.inference_stats.queue.ns = 10 * 1e6 + 40 * 50e6;
    const [figures] = live.add({ atMs: 2000, stats: [next] });
    expect(figures?.throughput).toBe(20);
    expect(figures?.latencyMs).toEqual([10]);
    expect(figures?.p99).toBe(10);
    // 20 requests/s each queued 50 ms: one waiting on average.
    expect(figures?.queueDepth).toBeCloseTo(1);
    expect(figures?.batches).toEqual([
      { size: 1, count: 30 },
      { size: 4, count: 5 },
    ]);
  });

  it("keeps percentiles over a bounded window of intervals", () => {
    const live = new LiveStats(3);
    let figures = live.add({ atMs: 0, stats: [reading(0, 0, 0)] });
    for (const [index, latency] of [1, 2, 3, 4].entries()) {
      const stats = reading(index + 1, 0, 0);
      stats.inference_stats.success.ns = [1, 2, 3, 4]
        .slice(0, index + 1)
        .reduce((sum, ms) => sum + ms * 1e6, 0);
      figures = live.add({ atMs: (index + 1) * 1000, stats: [stats] });
      expect(figures[0]?.latencyMs.at(-1)).toBeCloseTo(latency);
    }
    expect(figures[0]?.latencyMs).toEqual([2, 3, 4]);
  });
});

describe("percentile", () => {
  it("takes the nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    expect([percentile(values, 50), percentile(values, 95), percentile(values, 99)]).toEqual([50, 95, 99]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });
});
