import { describe, expect, it } from "bun:test";
import type { InferRequest } from "../../src/core/request.ts";
import { StageClock } from "../../src/core/stage-clock.ts";
import { DirectScheduler } from "../../src/scheduler/direct-scheduler.ts";
import { InstancePool } from "../../src/scheduler/instance-pool.ts";
import { FakeInstance, settle } from "../support/fake-instance.ts";

function setup(instanceCount: number) {
  const instances = Array.from({ length: instanceCount }, (_, i) => new FakeInstance(`m_${i}`));
  const events: string[] = [];
  const scheduler = new DirectScheduler({
    model: "m",
    version: "1",
    pool: new InstancePool(instances),
    allOutputs: ["OUT"],
    observer: {
      queued: () => events.push("queued"),
      dequeued: () => events.push("dequeued"),
      executed: (size) => events.push(`executed ${size}`),
      succeeded: () => {},
      failed: () => {},
    },
  });
  return { instances, scheduler, events };
}

function request(id: string, signal = new AbortController().signal): InferRequest {
  return {
    model: "m",
    id,
    inputs: [{ name: "IN", datatype: "INT32", shape: [1], data: new Int32Array([Number(id)]) }],
    parameters: {},
    signal,
    timing: new StageClock(),
  };
}

describe("DirectScheduler", () => {
  it("runs requests at once on free instances, spread over all of them", async () => {
    const { instances, scheduler } = setup(2);
    void scheduler.enqueue(request("1"), 1);
    void scheduler.enqueue(request("2"), 1);
    await settle();
    expect(instances.map((instance) => instance.running())).toEqual([1, 1]);
  });

  it("queues requests in arrival order while every instance is busy", async () => {
    const { instances, scheduler } = setup(1);
    const instance = instances[0] as FakeInstance;
    const done: string[] = [];
    for (const id of ["1", "2", "3"])
      void scheduler.enqueue(request(id), 1).then((response) => done.push(response.id ?? ""));
    await settle();
    expect(scheduler.pendingCount()).toBe(2);
    for (let i = 0; i < 3; i++) {
      instance.finishOne();
      await settle();
    }
    expect(done).toEqual(["1", "2", "3"]);
    expect(instance.executed.map((batch) => (batch.inputs[0] as { data: Int32Array }).data[0])).toEqual([
      1, 2, 3,
    ]);
  });

  it("never executes a request cancelled while it waited", async () => {
    const { instances, scheduler, events } = setup(1);
    const instance = instances[0] as FakeInstance;
    void scheduler.enqueue(request("1"), 1);
    const controller = new AbortController();
    const cancelled = scheduler.enqueue(request("2", controller.signal), 1);
    await settle();
    controller.abort();
    await expect(cancelled).rejects.toThrow("scheduler: request '2' was cancelled before it executed");
    instance.finishOne();
    await settle();
    expect(instance.executed).toHaveLength(1);
    expect(scheduler.pendingCount()).toBe(0);
    expect(events.filter((event) => event === "dequeued")).toHaveLength(2);
  });

  it("rejects a request whose signal is already aborted", async () => {
    const { scheduler, instances } = setup(1);
    const controller = new AbortController();
    controller.abort();
    await expect(scheduler.enqueue(request("1", controller.signal), 1)).rejects.toThrow("cancelled");
    expect(instances[0]?.executed).toHaveLength(0);
  });

  it("drains queued and running work, then refuses new requests", async () => {
    const { instances, scheduler } = setup(1);
    const instance = instances[0] as FakeInstance;
    const first = scheduler.enqueue(request("1"), 1);
    const second = scheduler.enqueue(request("2"), 1);
    let drained = false;
    const draining = scheduler.drain().then(() => {
      drained = true;
    });
    await expect(scheduler.enqueue(request("3"), 1)).rejects.toThrow(
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
