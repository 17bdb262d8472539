import type { InferenceObserver } from "../../src/core/observer.ts";
import type { InferRequest } from "../../src/core/request.ts";
import { StageClock } from "../../src/core/stage-clock.ts";
import { BatchingScheduler, type BatchingSchedulerOptions } from "../../src/scheduler/batching-scheduler.ts";
import { InstancePool } from "../../src/scheduler/instance-pool.ts";
import { SINGLE_QUEUE } from "../../src/scheduler/queue-policy.ts";
import { FakeInstance } from "./fake-instance.ts";

export interface Kit {
  instances: FakeInstance[];
  scheduler: BatchingScheduler;
  events: string[];
}

/** A BatchingScheduler over fake instances; `overrides` replace the default-scheduler options. */
export function schedulerKit(
  instanceCount: number,
  overrides: Partial<BatchingSchedulerOptions> = {},
  autoFinish = false,
): Kit {
  const instances = Array.from({ length: instanceCount }, (_, i) => new FakeInstance(`m_${i}`, autoFinish));
  const events: string[] = [];
  const observer: InferenceObserver = {
    queued: () => events.push("queued"),
    dequeued: () => events.push("dequeued"),
    executed: (size) => events.push(`executed ${size}`),
    succeeded: () => {},
    failed: () => {},
  };
  const scheduler = new BatchingScheduler({
    model: "m",
    version: "1",
    pool: new InstancePool(instances),
    allOutputs: ["OUT"],
    observer,
    rules: { batching: false, maxBatchSize: 8, preferredSizes: [], maxDelayMs: 0 },
    queue: SINGLE_QUEUE,
    preserveOrdering: false,
    ...overrides,
  });
  return { instances, scheduler, events };
}

/** A request of `rows` rows of [width] INT32 values, every value = id. */
export function request(
  id: number,
  options: {
    rows?: number;
    width?: number;
    signal?: AbortSignal;
    priority?: number;
    timeoutUs?: number;
  } = {},
): InferRequest {
  const rows = options.rows ?? 1;
  const width = options.width ?? 2;
  const built: InferRequest = {
    model: "m",
    id: String(id),
    inputs: [
      { name: "IN", datatype: "INT32", shape: [rows, width], data: new Int32Array(rows * width).fill(id) },
    ],
    parameters: {},
    signal: options.signal ?? new AbortController().signal,
    timing: new StageClock(),
  };
  if (options.priority !== undefined) built.priority = options.priority;
  if (options.timeoutUs !== undefined) built.timeoutUs = options.timeoutUs;
  return built;
}

/** The ids of the requests in each executed batch, from the echoed data. */
export function batchIds(instance: FakeInstance): number[][] {
  return instance.executed.map((batch) => {
    const data = batch.inputs[0]?.data as Int32Array;
    const width = batch.inputs[0]?.shape[1] ?? 1;
    let row = 0;
    return batch.sizes.map((size) => {
      const id = data[row * width] as number;
      row += size;
      return id;
    });
  });
}
