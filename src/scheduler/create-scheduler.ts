import type { ModelInstance } from "../backends/backend.ts";
import { latencyObjectiveOf } from "../config/latency-objective.ts";
import type { InferenceObserver } from "../core/observer.ts";
import type { Tensor } from "../core/tensor.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";
import { BatchingScheduler } from "./batching-scheduler.ts";
import { InstancePool } from "./instance-pool.ts";
import { queueConfigOf, SINGLE_QUEUE } from "./queue-policy.ts";
import type { Scheduler } from "./scheduler.ts";
import { SequenceBatcher } from "./sequence/sequence-batcher.ts";
import { sequenceSettings, stateOutputNames } from "./sequence/sequence-config.ts";

export interface SchedulerSpec {
  model: string;
  version: string;
  config: ModelConfig;
  instances: ModelInstance[];
  observer: InferenceObserver;
  /** Sequence models: one row of each state input's initial value. */
  initialStates?: ReadonlyMap<string, Tensor>;
}

/** The scheduler a config asks for: the sequence batcher, the dynamic batcher, or the default scheduler. */
export function createScheduler(spec: SchedulerSpec): Scheduler {
  const { config } = spec;
  const scheduling = config.schedulingChoice;
  if (scheduling.case === "sequenceBatching") {
    const stateOutputs = new Set(stateOutputNames(scheduling.value));
    return new SequenceBatcher({
      model: spec.model,
      version: spec.version,
      instances: spec.instances,
      settings: sequenceSettings(config, scheduling.value, spec.instances.length),
      batched: config.maxBatchSize > 0,
      maxBatchSize: config.maxBatchSize,
      allOutputs: config.output.map((output) => output.name).filter((name) => !stateOutputs.has(name)),
      initialStates: spec.initialStates ?? new Map(),
      observer: spec.observer,
    });
  }
  const objective = latencyObjectiveOf(config);
  const common = {
    model: spec.model,
    version: spec.version,
    pool: new InstancePool(spec.instances),
    allOutputs: config.output.map((output) => output.name),
    observer: spec.observer,
    ...(objective ? { objective } : {}),
  };
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
