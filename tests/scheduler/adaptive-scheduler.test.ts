import { describe, expect, it } from "bun:test";
import type { LatencyObjective } from "../../src/config/latency-objective.ts";
import type { FerryError } from "../../src/core/errors.ts";
import type { InferenceObserver } from "../../src/core/observer.ts";
import { BatchingScheduler } from "../../src/scheduler/batching-scheduler.ts";
import { InstancePool } from "../../src/scheduler/instance-pool.ts";
import { SINGLE_QUEUE } from "../../src/scheduler/queue-policy.ts";
import { settle, TimedInstance } from "../support/fake-instance.ts";
import { batchIds, request } from "../support/scheduler-kit.ts";

/**
 * The batcher with a latency objective over a fake instance whose
 * execution time per batch size is set by the test (timers, large margins):
 * what is asserted is what ran together and what was refused, not timings.
 */
function adaptiveKit(msFor: (rows: number) => number, objective?: Partial<LatencyObjective>, maxDelayMs = 0) {
  const instance = new TimedInstance("m_0", msFor);
  const events: string[] = [];
  const observer: InferenceObserver = {
    queued() {},
    dequeued() {},
    executed() {},
    succeeded() {},
    failed() {},
    objectiveSet: (ms, percentile) => events.push(`objective ${ms} ms p${percentile}`),
    objectiveOutcome: (within) => events.push(within ? "within" : "over"),
    rejectedLate: () => events.push("rejected late"),
  };
  const scheduler = new BatchingScheduler({
    model: "m",
    version: "1",
    pool: new InstancePool([instance]),
    allOutputs: ["OUT"],
    observer,
    rules: { batching: true, maxBatchSize: 16, preferredSizes: [], maxDelayMs },
    queue: SINGLE_QUEUE,
    preserveOrdering: false,
    ...(objective
      ? { objective: { objectiveMs: 1000, percentile: 99, lateRequests: "serve" as const, ...objective } }
      : {}),
  });
  return { instance, scheduler, events };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sizes = (batches: number[][]) => batches.map((batch) => batch.length);

describe("dynamic batching with a latency objective", () => {
  it("runs each request at once when waiting does not pay, where a fixed delay waits", async () => {
    const spaced = async (kit: ReturnType<typeof adaptiveKit>) => {
      const answers: Promise<unknown>[] = [];
      for (const id of [1, 2, 3]) {
        answers.push(kit.scheduler.enqueue(request(id), 1));
        await sleep(40);
      }
      await Promise.all(answers);
      return sizes(batchIds(kit.instance));
    };
    // 20 ms per execution, requests 40 ms apart: one instance keeps up with batches of one.
    expect(await spaced(adaptiveKit(() => 20, {}, 300))).toEqual([1, 1, 1]);
    expect(await spaced(adaptiveKit(() => 20, undefined, 300))).toEqual([3]);
  });

  it("waits for a larger batch when arrivals outpace batches of one, and stops when they calm down", async () => {
    // 40 ms + 0.5 ms per row: a batch of one serves 25 requests/s, a batch of ten over 200.
    const { instance, scheduler } = adaptiveKit((rows) => 40 + 0.5 * rows, { objectiveMs: 400 });
    const training = Array.from({ length: 16 }, (_, id) => scheduler.enqueue(request(id), 1));
    await Promise.all(training);
    expect(sizes(batchIds(instance))).toEqual([1, 15]);

    // 10 requests 5 ms apart (200/s): batches of one (25/s) cannot keep up, so the first waits for
    // company instead of running alone, as the default batcher would.
    const busy: Promise<unknown>[] = [];
    for (let id = 100; id < 110; id++) {
      busy.push(scheduler.enqueue(request(id), 1));
      await sleep(5);
    }
    await Promise.all(busy);
    const [firstBusyBatch] = sizes(batchIds(instance).slice(2));
    expect(firstBusyBatch).toBeGreaterThan(1);

    // A second later the arrival rate has decayed: a lone request runs at once.
    await sleep(1500);
    void scheduler.enqueue(request(200), 1);
    await settle();
    expect(instance.running()).toBe(1);
  });

  it("rejects a request early when its wait plus the predicted execution exceeds the objective", async () => {
    const { scheduler, events } = adaptiveKit(() => 30, { objectiveMs: 20, lateRequests: "reject" });
    await scheduler.enqueue(request(1), 1); // learns: one row takes ~30 ms
    const refused = await scheduler.enqueue(request(2), 1).then(
      () => undefined,
      (error: FerryError) => error,
    );
    expect(refused?.code).toBe("UNAVAILABLE");
    expect(refused?.layer).toBe("scheduler");
    expect(refused?.message).toContain("latency objective");
    expect(refused?.message).toContain("> 20 ms");
    expect(refused?.message).toContain("ferry.latency_objective_ms");
    expect(events).toEqual(["objective 20 ms p99", "over", "rejected late"]);
  });

  it("serves late requests by default and counts them over the objective", async () => {
    const { scheduler, events } = adaptiveKit(() => 30, { objectiveMs: 20 });
    await scheduler.enqueue(request(1), 1);
    await scheduler.enqueue(request(2), 1);
    expect(events).toEqual(["objective 20 ms p99", "over", "over"]);
  });

  it("shows what it learned: the objective and the execution time per batch size", async () => {
    const { scheduler } = adaptiveKit(() => 5, { objectiveMs: 50 });
    await scheduler.enqueue(request(1), 1);
    const report = scheduler.batchingReport();
    expect(report).toMatchObject({ latency_objective_ms: 50, percentile: 99, late_requests: "serve" });
    expect(report?.execution.cpu?.[0]).toMatchObject({ size: 1, samples: 1 });
    expect(report?.execution.cpu?.[0]?.meanUs).toBeGreaterThan(4000);
  });

  it("without an objective reports nothing and emits no objective events", async () => {
    const { scheduler, events } = adaptiveKit(() => 1);
    await scheduler.enqueue(request(1), 1);
    expect(scheduler.batchingReport()).toBeUndefined();
    expect(events).toEqual([]);
  });
});
