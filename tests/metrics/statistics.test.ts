import { expect, it } from "bun:test";
import { StageClock } from "../../src/core/stage-clock.ts";
import { VersionStatistics } from "../../src/metrics/statistics.ts";
import type { Json } from "../support/json.ts";

function clockWith(stampsMs: {
  received: number;
  queued: number;
  start: number;
  infer: number;
  output: number;
  end: number;
}) {
  const clock = new StageClock();
  Object.assign(clock, {
    received: stampsMs.received,
    queued: stampsMs.queued,
    computeStart: stampsMs.start,
    inferStart: stampsMs.infer,
    outputStart: stampsMs.output,
    computeEnd: stampsMs.end,
    finished: stampsMs.end + 1,
  });
  return clock;
}

it("adds up durations in ns and keeps one entry per executed batch size", () => {
  const stats = new VersionStatistics("m", "1");
  const clock = clockWith({ received: 0, queued: 1, start: 3, infer: 4, output: 10, end: 12 });
  stats.executed(3, [clock, clock]);
  stats.succeeded(2, clock);
  stats.succeeded(1, clock);
  stats.failed("BACKEND", clock);
  const json: Json = stats.toJson();
  expect(json.inference_count).toBe(3);
  expect(json.execution_count).toBe(1);
  expect(json.inference_stats.success).toEqual({ count: 2, ns: 26_000_000 });
  expect(json.inference_stats.queue).toEqual({ count: 2, ns: 4_000_000 });
  expect(json.inference_stats.compute_infer).toEqual({ count: 2, ns: 12_000_000 });
  expect(json.inference_stats.fail).toEqual({ count: 1, ns: 13_000_000 });
  expect(json.batch_stats).toEqual([
    {
      batch_size: 3,
      compute_input: { count: 1, ns: 1_000_000 },
      compute_infer: { count: 1, ns: 6_000_000 },
      compute_output: { count: 1, ns: 2_000_000 },
    },
  ]);
});
