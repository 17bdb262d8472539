import { describe, expect, it } from "bun:test";
import type { InferenceObserver } from "../../../src/core/observer.ts";
import type { InferRequest, SequenceControl } from "../../../src/core/request.ts";
import { StageClock } from "../../../src/core/stage-clock.ts";
import type { Tensor } from "../../../src/core/tensor.ts";
import { SequenceBatcher } from "../../../src/scheduler/sequence/sequence-batcher.ts";
import type { SequenceSettings } from "../../../src/scheduler/sequence/sequence-config.ts";
import { FakeInstance, settle } from "../../support/fake-instance.ts";

const CONTROLS: SequenceSettings["controls"] = [
  { input: "START", role: "start", datatype: "INT32", falseTrue: [0, 1] },
  { input: "END", role: "end", datatype: "FP32", falseTrue: [0, 1] },
  { input: "READY", role: "ready", datatype: "BOOL", falseTrue: [0, 1] },
  { input: "CORRID", role: "corrid", datatype: "UINT64", falseTrue: [0, 0] },
];

function setup(overrides: Partial<SequenceSettings> = {}, instanceCount = 1, maxBatchSize = 4) {
  const instances = Array.from({ length: instanceCount }, (_, i) => new FakeInstance(`acc_${i}`));
  const events: string[] = [];
  const observer: InferenceObserver = {
    queued: () => events.push("queued"),
    dequeued: () => events.push("dequeued"),
    executed: () => {},
    succeeded: () => {},
    failed: () => {},
  };
  const settings: SequenceSettings = {
    strategy: "direct",
    idleMs: 1000,
    slotsPerInstance: Math.max(1, maxBatchSize),
    backlogLimit: 1,
    maxDelayMs: 0,
    minimumSlotUtilization: 0,
    preferredSizes: [],
    preserveOrdering: false,
    controls: CONTROLS,
    states: [],
    ...overrides,
  };
  const batcher = new SequenceBatcher({
    model: "acc",
    version: "1",
    instances,
    settings,
    batched: maxBatchSize > 0,
    maxBatchSize,
    allOutputs: ["OUT"],
    initialStates: new Map(),
    observer,
  });
  return { instances, batcher, events };
}

function request(
  id: bigint | string,
  value: number,
  control: Partial<SequenceControl> = {},
  signal?: AbortSignal,
): InferRequest {
  return {
    model: "acc",
    inputs: [{ name: "IN", datatype: "INT32", shape: [1, 1], data: new Int32Array([value]) }],
    parameters: {},
    sequence: { id, start: false, end: false, ...control },
    signal: signal ?? new AbortController().signal,
    timing: new StageClock(),
  };
}

/** One executed batch as rows of { IN, START, END, READY, CORRID }. */
function rowsOf(instance: FakeInstance, execution: number) {
  const batch = instance.executed[execution];
  if (!batch) throw new Error(`no execution ${execution}`);
  const column = (name: string) =>
    Array.from(batch.inputs.find((input: Tensor) => input.name === name)?.data as ArrayLike<number | bigint>);
  const values = {
    IN: column("IN"),
    START: column("START"),
    END: column("END"),
    READY: column("READY"),
    CORRID: column("CORRID"),
  };
  return values.IN.map((_, row) => ({
    IN: values.IN[row],
    START: values.START[row],
    END: values.END[row],
    READY: values.READY[row],
    CORRID: values.CORRID[row],
  }));
}

describe("SequenceBatcher (direct)", () => {
  it("injects START, END, READY and CORRID per row, one slot per sequence", async () => {
    const { instances, batcher } = setup();
    const instance = instances[0] as FakeInstance;
    void batcher.enqueue(request(11n, 1, { start: true }), 1);
    void batcher.enqueue(request(22n, 2, { start: true }), 1);
    await settle();
    expect(rowsOf(instance, 0)).toEqual([{ IN: 1, START: 1, END: 0, READY: 1, CORRID: 11n }]);
    void batcher.enqueue(request(11n, 3, { end: true }), 1);
    instance.finishOne();
    await settle();
    expect(rowsOf(instance, 1)).toEqual([
      { IN: 3, START: 0, END: 1, READY: 1, CORRID: 11n },
      { IN: 2, START: 1, END: 0, READY: 1, CORRID: 22n },
    ]);
  });

  it("keeps each sequence in its slot's row and sends empty slots as READY=0", async () => {
    const { instances, batcher } = setup();
    const instance = instances[0] as FakeInstance;
    for (const id of [1n, 2n, 3n]) void batcher.enqueue(request(id, Number(id), { start: true }), 1);
    await settle();
    // Sequence 1 ran alone while 2 and 3 queued; they go next in slots 1 and 2, slot 0 empty.
    instance.finishOne();
    await settle();
    expect(rowsOf(instance, 1).map((row) => [row.READY, row.CORRID])).toEqual([
      [0, 0n],
      [1, 2n],
      [1, 3n],
    ]);
    instance.finishOne();
    void batcher.enqueue(request(3n, 30), 1);
    await settle();
    expect(rowsOf(instance, 2)).toEqual([
      { IN: 0, START: 0, END: 0, READY: 0, CORRID: 0n },
      { IN: 0, START: 0, END: 0, READY: 0, CORRID: 0n },
      { IN: 30, START: 0, END: 0, READY: 1, CORRID: 3n },
    ]);
  });

  it("runs a sequence's requests in order, never two at once", async () => {
    const { instances, batcher } = setup();
    const instance = instances[0] as FakeInstance;
    const answers = [1, 2, 3].map((value, i) => batcher.enqueue(request(5n, value, { start: i === 0 }), 1));
    for (let i = 0; i < 3; i++) {
      await settle();
      expect(instance.running()).toBe(1);
      instance.finishOne();
    }
    await Promise.all(answers);
    expect(instance.executed.map((_, i) => rowsOf(instance, i).map((row) => row.IN))).toEqual([
      [1],
      [2],
      [3],
    ]);
  });

  it("refuses a request for a sequence that was never started", async () => {
    const { batcher } = setup();
    await expect(batcher.enqueue(request(9n, 1), 1)).rejects.toThrow(
      "scheduler: sequence 9 of model 'acc' was never started: its first request needs sequence_start=true",
    );
  });

  it("refuses a request without a sequence id, and a batch larger than 1", async () => {
    const { batcher } = setup();
    const plain = { ...request(1n, 1), sequence: undefined };
    await expect(batcher.enqueue(plain, 1)).rejects.toThrow("each request needs a sequence_id");
    await expect(batcher.enqueue(request(1n, 1, { start: true }), 2)).rejects.toThrow(
      "must have batch size 1, got 2",
    );
  });

  it("refuses string ids when CORRID is numeric", async () => {
    const { batcher } = setup();
    await expect(batcher.enqueue(request("abc", 1, { start: true }), 1)).rejects.toThrow(
      "takes numeric sequence ids (CORRID is UINT64)",
    );
  });

  it("backlogs new sequences while slots are full and refuses more than the backlog holds", async () => {
    const { instances, batcher } = setup({ backlogLimit: 1 }, 1, 1);
    const instance = instances[0] as FakeInstance;
    void batcher.enqueue(request(1n, 1, { start: true }), 1);
    const waiting = batcher.enqueue(request(2n, 2, { start: true }), 1);
    await expect(batcher.enqueue(request(3n, 3, { start: true }), 1)).rejects.toThrow(
      "model 'acc': all 1 sequence slots are taken and 1 new sequences already wait for one",
    );
    await settle();
    instance.finishOne();
    void batcher.enqueue(request(1n, 10, { end: true }), 1);
    await settle();
    instance.finishOne();
    await settle();
    instance.finishOne();
    await waiting;
    expect(instance.executed.map((_, i) => rowsOf(instance, i)[0]?.CORRID)).toEqual([1n, 1n, 2n]);
  });

  it("releases an idle sequence after max_sequence_idle and says so", async () => {
    const { instances, batcher } = setup({ idleMs: 20 });
    const instance = instances[0] as FakeInstance;
    const first = batcher.enqueue(request(4n, 1, { start: true }), 1);
    await settle();
    instance.finishOne();
    await first;
    await Bun.sleep(60);
    await expect(batcher.enqueue(request(4n, 2), 1)).rejects.toThrow(
      "sequence 4 of model 'acc' was released after 20000 µs without requests (max_sequence_idle_microseconds)",
    );
  });

  it("cancelling one request cancels the rest of its sequence and frees the slot", async () => {
    const { instances, batcher, events } = setup({}, 1, 1);
    const instance = instances[0] as FakeInstance;
    void batcher.enqueue(request(1n, 1, { start: true }), 1);
    const controller = new AbortController();
    const cancelled = batcher.enqueue(request(1n, 2, {}, controller.signal), 1);
    const after = batcher.enqueue(request(1n, 3), 1);
    await settle();
    controller.abort();
    await expect(cancelled).rejects.toThrow("cancelled before it executed");
    await expect(after).rejects.toThrow("cancelled before it executed");
    instance.finishOne();
    await settle();
    expect(instance.executed).toHaveLength(1);
    await expect(batcher.enqueue(request(1n, 4), 1)).rejects.toThrow(
      "sequence 1 of model 'acc' was cancelled",
    );
    expect(events.filter((event) => event === "queued")).toHaveLength(
      events.filter((event) => event === "dequeued").length,
    );
  });

  it("drains: queued requests of every sequence run before unload", async () => {
    const { instances, batcher } = setup();
    const instance = instances[0] as FakeInstance;
    const answers = [1n, 2n].map((id) => batcher.enqueue(request(id, 1, { start: true }), 1));
    let drained = false;
    const draining = batcher.drain().then(() => {
      drained = true;
    });
    await expect(batcher.enqueue(request(3n, 1, { start: true }), 1)).rejects.toThrow("is unloading");
    await settle();
    expect(drained).toBe(false);
    instance.finishOne();
    await settle();
    expect(drained).toBe(false);
    instance.finishOne();
    await Promise.all([...answers, draining]);
  });
});

describe("SequenceBatcher (oldest)", () => {
  it("batches the oldest waiting requests across sequences, one per sequence", async () => {
    const { instances, batcher } = setup({ strategy: "oldest", slotsPerInstance: 4 }, 1, 2);
    const instance = instances[0] as FakeInstance;
    void batcher.enqueue(request(1n, 10, { start: true }), 1);
    await settle();
    void batcher.enqueue(request(1n, 11), 1);
    void batcher.enqueue(request(2n, 20, { start: true }), 1);
    void batcher.enqueue(request(3n, 30, { start: true }), 1);
    instance.finishOne();
    await settle();
    expect(rowsOf(instance, 1).map((row) => [row.CORRID, row.IN])).toEqual([
      [1n, 11],
      [2n, 20],
    ]);
    expect(rowsOf(instance, 1).every((row) => row.READY === 1)).toBe(true);
  });
});
