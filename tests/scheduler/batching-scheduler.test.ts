import { describe, expect, it } from "bun:test";
import type { InferResponse } from "../../src/core/request.ts";
import type { FakeInstance } from "../support/fake-instance.ts";
import { settle } from "../support/fake-instance.ts";
import { batchIds, request, schedulerKit } from "../support/scheduler-kit.ts";

const dynamic = (
  rules: Partial<{ maxBatchSize: number; preferredSizes: number[]; maxDelayMs: number }> = {},
) => ({
  rules: { batching: true, maxBatchSize: 8, preferredSizes: [], maxDelayMs: 0, ...rules },
});

describe("the default scheduler", () => {
  it("runs requests at once on free instances, spread over all of them", async () => {
    const { instances, scheduler } = schedulerKit(2);
    void scheduler.enqueue(request(1), 1);
    void scheduler.enqueue(request(2), 1);
    await settle();
    expect(instances.map((instance) => instance.running())).toEqual([1, 1]);
  });

  it("queues requests in arrival order while every instance is busy, one per execution", async () => {
    const { instances, scheduler } = schedulerKit(1);
    const instance = instances[0] as FakeInstance;
    const done: string[] = [];
    for (const id of [1, 2, 3])
      void scheduler.enqueue(request(id), 1).then((response) => done.push(response.id ?? ""));
    await settle();
    expect(scheduler.pendingCount()).toBe(2);
    for (let i = 0; i < 3; i++) {
      instance.finishOne();
      await settle();
    }
    expect(done).toEqual(["1", "2", "3"]);
    expect(batchIds(instance)).toEqual([[1], [2], [3]]);
  });

  it("rejects a request whose signal is already aborted", async () => {
    const { scheduler, instances } = schedulerKit(1);
    const controller = new AbortController();
    controller.abort();
    await expect(scheduler.enqueue(request(1, { signal: controller.signal }), 1)).rejects.toThrow(
      "cancelled",
    );
    expect(instances[0]?.executed).toHaveLength(0);
  });

  it("drains queued and running work, then refuses new requests", async () => {
    const { instances, scheduler } = schedulerKit(1);
    const instance = instances[0] as FakeInstance;
    const first = scheduler.enqueue(request(1), 1);
    const second = scheduler.enqueue(request(2), 1);
    let drained = false;
    const draining = scheduler.drain().then(() => {
      drained = true;
    });
    await expect(scheduler.enqueue(request(3), 1)).rejects.toThrow(
      "scheduler: model 'm' version 1 is unloading",
    );
    instance.finishOne();
    await settle();
    expect(drained).toBe(false);
    instance.finishOne();
    await draining;
    await expect(first).resolves.toBeDefined();
    await expect(second).resolves.toBeDefined();
  });
});

describe("the dynamic batcher", () => {
  it("joins the requests that waited while the instance was busy into one execution", async () => {
    const { instances, scheduler, events } = schedulerKit(1, dynamic());
    const instance = instances[0] as FakeInstance;
    const answers = [1, 2, 3, 4].map((id) =>
      scheduler.enqueue(request(id, { rows: id === 3 ? 2 : 1 }), id === 3 ? 2 : 1),
    );
    await settle();
    instance.finishOne();
    await settle();
    expect(batchIds(instance)).toEqual([[1], [2, 3, 4]]);
    expect(instance.executed[1]?.inputs[0]?.shape).toEqual([4, 2]);
    instance.finishOne();
    const responses = await Promise.all(answers);
    expect(responses.map((response) => response.outputs[0]?.shape)).toEqual([
      [1, 2],
      [1, 2],
      [2, 2],
      [1, 2],
    ]);
    expect(events.filter((event) => event.startsWith("executed"))).toEqual(["executed 1", "executed 4"]);
  });

  it("never exceeds max_batch_size and keeps the rest for the next execution", async () => {
    const { instances, scheduler } = schedulerKit(1, dynamic({ maxBatchSize: 4 }));
    const instance = instances[0] as FakeInstance;
    for (let id = 1; id <= 7; id++) void scheduler.enqueue(request(id), 1);
    for (let i = 0; i < 3; i++) {
      await settle();
      instance.finishOne();
    }
    expect(batchIds(instance)).toEqual([[1], [2, 3, 4, 5], [6, 7]]);
  });

  it("sends the largest preferred batch size that can be formed", async () => {
    const { instances, scheduler } = schedulerKit(1, dynamic({ preferredSizes: [2, 4], maxDelayMs: 10_000 }));
    const instance = instances[0] as FakeInstance;
    for (let id = 1; id <= 5; id++) void scheduler.enqueue(request(id), 1);
    await settle();
    // 1 waits for company; with 2 a preferred size exists and goes at once.
    expect(batchIds(instance)).toEqual([[1, 2]]);
    instance.finishOne();
    await settle();
    // 3, 4, 5 queued meanwhile: 4 of them would be preferred, only 2 can be formed.
    expect(batchIds(instance)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(scheduler.pendingCount()).toBe(1);
  });

  it("does not batch requests whose non-batch shapes differ", async () => {
    const { instances, scheduler } = schedulerKit(1, dynamic());
    const instance = instances[0] as FakeInstance;
    void scheduler.enqueue(request(1), 1);
    void scheduler.enqueue(request(2), 1);
    void scheduler.enqueue(request(3, { width: 5 }), 1);
    void scheduler.enqueue(request(4), 1);
    for (let i = 0; i < 4; i++) {
      await settle();
      instance.finishOne();
    }
    expect(batchIds(instance)).toEqual([[1], [2], [3], [4]]);
  });

  it("waits at most max_queue_delay for a fuller batch", async () => {
    const { instances, scheduler } = schedulerKit(1, dynamic({ maxDelayMs: 40 }), true);
    const instance = instances[0] as FakeInstance;
    const started = performance.now();
    const first = scheduler.enqueue(request(1), 1);
    await Bun.sleep(10);
    const second = scheduler.enqueue(request(2), 1);
    expect(instance.executed).toHaveLength(0);
    await Promise.all([first, second]);
    const waited = performance.now() - started;
    expect(batchIds(instance)).toEqual([[1, 2]]);
    expect(waited).toBeGreaterThanOrEqual(35);
    expect(waited).toBeLessThan(1000);
  });

  it("sends at once, without waiting out the delay, when the batch is full", async () => {
    const { instances, scheduler } = schedulerKit(1, dynamic({ maxBatchSize: 2, maxDelayMs: 60_000 }), true);
    await Promise.all([scheduler.enqueue(request(1), 1), scheduler.enqueue(request(2), 1)]);
    expect(batchIds(instances[0] as FakeInstance)).toEqual([[1, 2]]);
  });

  it("routes every output back to its own request, whatever the batch composition", async () => {
    for (let trial = 0; trial < 20; trial++) {
      const { scheduler } = schedulerKit(
        1 + (trial % 3),
        dynamic({ maxBatchSize: 8, maxDelayMs: trial % 2 }),
        true,
      );
      const sizes = Array.from(
        { length: 5 + Math.floor(Math.random() * 25) },
        () => 1 + Math.floor(Math.random() * 4),
      );
      const responses = await Promise.all(
        sizes.map((rows, id) => scheduler.enqueue(request(id, { rows }), rows)),
      );
      responses.forEach((response: InferResponse, id) => {
        expect(response.id).toBe(String(id));
        expect(response.outputs[0]?.shape).toEqual([sizes[id] as number, 2]);
        expect(Array.from(response.outputs[0]?.data as Int32Array).every((value) => value === id)).toBe(true);
      });
    }
  });

  it("keeps answers in arrival order with preserve_ordering", async () => {
    const { instances, scheduler } = schedulerKit(2, {
      ...dynamic({ maxBatchSize: 1 }),
      preserveOrdering: true,
    });
    const done: string[] = [];
    const answers = [1, 2].map((id) =>
      scheduler.enqueue(request(id), 1).then((response) => done.push(response.id ?? "")),
    );
    await settle();
    instances[1]?.finishOne();
    await settle();
    expect(done).toEqual([]);
    instances[0]?.finishOne();
    await Promise.all(answers);
    expect(done).toEqual(["1", "2"]);
  });

  it("answers out of order without preserve_ordering", async () => {
    const { instances, scheduler } = schedulerKit(2, dynamic({ maxBatchSize: 1 }));
    const done: string[] = [];
    const answers = [1, 2].map((id) =>
      scheduler.enqueue(request(id), 1).then((response) => done.push(response.id ?? "")),
    );
    await settle();
    instances[1]?.finishOne();
    await settle();
    instances[0]?.finishOne();
    await Promise.all(answers);
    expect(done).toEqual(["2", "1"]);
  });

  it("serves higher priority levels first", async () => {
    const queue = {
      levels: 3,
      defaultLevel: 2,
      policies: Array(3).fill({
        onTimeout: "reject",
        defaultTimeoutUs: 0,
        allowTimeoutOverride: false,
        maxQueueSize: 0,
      }),
    };
    const { instances, scheduler } = schedulerKit(1, { ...dynamic({ maxBatchSize: 1 }), queue });
    const instance = instances[0] as FakeInstance;
    void scheduler.enqueue(request(0), 1);
    void scheduler.enqueue(request(1, { priority: 3 }), 1);
    void scheduler.enqueue(request(2), 1);
    void scheduler.enqueue(request(3, { priority: 1 }), 1);
    void scheduler.enqueue(request(4, { priority: 9 }), 1);
    for (let i = 0; i < 5; i++) {
      await settle();
      instance.finishOne();
    }
    expect(batchIds(instance).flat()).toEqual([0, 3, 2, 4, 1]);
  });

  it("rejects a request beyond max_queue_size with RESOURCE_EXHAUSTED", async () => {
    const queue = {
      levels: 1,
      defaultLevel: 1,
      policies: [
        { onTimeout: "reject" as const, defaultTimeoutUs: 0, allowTimeoutOverride: false, maxQueueSize: 2 },
      ],
    };
    const { scheduler } = schedulerKit(1, { ...dynamic({ maxBatchSize: 1 }), queue });
    void scheduler.enqueue(request(1), 1);
    void scheduler.enqueue(request(2), 1);
    void scheduler.enqueue(request(3), 1);
    const rejected = scheduler.enqueue(request(4), 1);
    await expect(rejected).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED", layer: "scheduler" });
    await expect(rejected).rejects.toThrow(
      "Exceeds maximum queue size: model 'm' priority level 1 already holds 2 requests",
    );
  });

  it("rejects a request whose queue timeout expires, without executing it", async () => {
    const queue = {
      levels: 1,
      defaultLevel: 1,
      policies: [
        {
          onTimeout: "reject" as const,
          defaultTimeoutUs: 20_000,
          allowTimeoutOverride: true,
          maxQueueSize: 0,
        },
      ],
    };
    const { instances, scheduler } = schedulerKit(1, { ...dynamic({ maxBatchSize: 1 }), queue });
    const instance = instances[0] as FakeInstance;
    void scheduler.enqueue(request(1), 1);
    const expired = scheduler.enqueue(request(2, { timeoutUs: 5_000 }), 1);
    await expect(expired).rejects.toThrow("scheduler: Request timeout expired after 5000 µs in the queue");
    instance.finishOne();
    await settle();
    expect(batchIds(instance)).toEqual([[1]]);
    expect(scheduler.pendingCount()).toBe(0);
  });

  it("moves an expired request behind the fresh ones under DELAY", async () => {
    const queue = {
      levels: 1,
      defaultLevel: 1,
      policies: [
        { onTimeout: "delay" as const, defaultTimeoutUs: 0, allowTimeoutOverride: true, maxQueueSize: 0 },
      ],
    };
    const { instances, scheduler } = schedulerKit(1, { ...dynamic({ maxBatchSize: 1 }), queue });
    const instance = instances[0] as FakeInstance;
    void scheduler.enqueue(request(1), 1);
    void scheduler.enqueue(request(2, { timeoutUs: 1_000 }), 1);
    await Bun.sleep(10);
    void scheduler.enqueue(request(3), 1);
    for (let i = 0; i < 3; i++) {
      await settle();
      instance.finishOne();
    }
    expect(batchIds(instance).flat()).toEqual([1, 3, 2]);
  });

  it("leaves no ghost work behind cancelled requests", async () => {
    const { instances, scheduler, events } = schedulerKit(1, dynamic());
    const instance = instances[0] as FakeInstance;
    void scheduler.enqueue(request(1), 1);
    const controllers = [2, 3, 4].map(() => new AbortController());
    const cancelled = [2, 3, 4].map((id, i) =>
      scheduler.enqueue(request(id, { signal: (controllers[i] as AbortController).signal }), 1),
    );
    void scheduler.enqueue(request(5), 1);
    await settle();
    controllers[0]?.abort();
    controllers[2]?.abort();
    for (const answer of [cancelled[0], cancelled[2]])
      await expect(answer).rejects.toThrow("cancelled before it executed");
    instance.finishOne();
    await settle();
    instance.finishOne();
    await settle();
    expect(batchIds(instance)).toEqual([[1], [3, 5]]);
    expect(scheduler.pendingCount()).toBe(0);
    expect(events.filter((event) => event === "queued")).toHaveLength(5);
    expect(events.filter((event) => event === "dequeued")).toHaveLength(5);
  });
});
