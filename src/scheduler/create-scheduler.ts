import type { ModelInstance } from "../backends/backend.ts";
import type { InferenceObserver } from "../core/observer.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";
import { DirectScheduler } from "./direct-scheduler.ts";
import { InstancePool } from "./instance-pool.ts";
import type { Scheduler } from "./scheduler.ts";

export interface SchedulerSpec {
  model: string;
  version: string;
  config: ModelConfig;
  instances: ModelInstance[];
  observer: InferenceObserver;
}

/** The scheduler a config asks for. */
export function createScheduler(spec: SchedulerSpec): Scheduler {
  const pool = new InstancePool(spec.instances);
  return new DirectScheduler({
    model: spec.model,
    version: spec.version,
    pool,
    allOutputs: spec.config.output.map((output) => output.name),
    observer: spec.observer,
  });
}
