import type { ModelInstance } from "../backends/backend.ts";
import type { InferenceObserver } from "../core/observer.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";
import { BatchingScheduler } from "./batching-scheduler.ts";
import { InstancePool } from "./instance-pool.ts";
import { queueConfigOf, SINGLE_QUEUE } from "./queue-policy.ts";
import type { Scheduler } from "./scheduler.ts";

export interface SchedulerSpec {
  model: string;
  version: string;
  config: ModelConfig;
  instances: ModelInstance[];
  observer: InferenceObserver;
}

/** The scheduler a config asks for: the dynamic batcher, or the default scheduler. */
export function createScheduler(spec: SchedulerSpec): Scheduler {
  const { config } = spec;
  const common = {
    model: spec.model,
    version: spec.version,
    pool: new InstancePool(spec.instances),
    allOutputs: config.output.map((output) => output.name),
    observer: spec.observer,
  };
  const scheduling = config.schedulingChoice;
  if (scheduling.case === "dynamicBatching") {
    const batching = scheduling.value;
    return new BatchingScheduler({
      ...common,
      rules: {
        batching: true,
        maxBatchSize: config.maxBatchSize,
        preferredSizes: [...batching.preferredBatchSize].sort((a, b) => a - b),
        maxDelayMs: Number(batching.maxQueueDelayMicroseconds) / 1000,
      },
      queue: queueConfigOf(batching),
      preserveOrdering: batching.preserveOrdering,
    });
  }
  return new BatchingScheduler({
    ...common,
    rules: { batching: false, maxBatchSize: config.maxBatchSize, preferredSizes: [], maxDelayMs: 0 },
    queue: SINGLE_QUEUE,
    preserveOrdering: false,
  });
}
