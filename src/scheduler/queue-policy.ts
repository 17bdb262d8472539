import type { ModelDynamicBatching, ModelQueuePolicy } from "../gen/model_config_pb.ts";
import { ModelQueuePolicy_TimeoutAction as TimeoutAction } from "../gen/model_config_pb.ts";

/** One priority level's queue policy, in the units the queue uses. */
export interface LevelPolicy {
  /** REJECT fails an expired request; DELAY moves it behind the fresh ones. */
  onTimeout: "reject" | "delay";
  /** 0 = requests never time out unless they set their own (when allowed). */
  defaultTimeoutUs: number;
  allowTimeoutOverride: boolean;
  /** 0 = unbounded. */
  maxQueueSize: number;
}

export interface QueueConfig {
  /** Number of levels; 1 when the config has no priority levels. */
  levels: number;
  /** 1-based level for requests without a (valid) priority. */
  defaultLevel: number;
  policies: LevelPolicy[];
}

export const DEFAULT_POLICY: LevelPolicy = {
  onTimeout: "reject",
  defaultTimeoutUs: 0,
  allowTimeoutOverride: false,
  maxQueueSize: 0,
};

/** A single FIFO without limits: the default scheduler's queue. */
export const SINGLE_QUEUE: QueueConfig = { levels: 1, defaultLevel: 1, policies: [DEFAULT_POLICY] };

/** The levels and per-level policies `dynamic_batching` asks for. */
export function queueConfigOf(batching: ModelDynamicBatching): QueueConfig {
  const levels = Math.max(1, Number(batching.priorityLevels));
  const fallback = batching.defaultQueuePolicy ? toLevelPolicy(batching.defaultQueuePolicy) : DEFAULT_POLICY;
  const policies = Array.from({ length: levels }, (_, index) => {
    const own = batching.priorityQueuePolicy[String(index + 1)];
    return own ? toLevelPolicy(own) : fallback;
  });
  const defaultLevel = batching.priorityLevels > 0n ? Number(batching.defaultPriorityLevel) : 1;
  return { levels, defaultLevel, policies };
}

function toLevelPolicy(policy: ModelQueuePolicy): LevelPolicy {
  return {
    onTimeout: policy.timeoutAction === TimeoutAction.DELAY ? "delay" : "reject",
    defaultTimeoutUs: Number(policy.defaultTimeoutMicroseconds),
    allowTimeoutOverride: policy.allowTimeoutOverride,
    maxQueueSize: policy.maxQueueSize,
  };
}

/**
 * The queue timeout of one request: the level's default, or the request's
 * own `timeout` when the policy allows overriding and it is shorter.
 */
export function effectiveTimeoutUs(policy: LevelPolicy, requested: number | undefined): number {
  if (!policy.allowTimeoutOverride || !requested) return policy.defaultTimeoutUs;
  return policy.defaultTimeoutUs === 0 ? requested : Math.min(requested, policy.defaultTimeoutUs);
}

/** Level of a request: its priority when valid (1..levels), else the default level. */
export function levelOf(config: QueueConfig, priority: number | undefined): number {
  if (priority !== undefined && priority >= 1 && priority <= config.levels) return priority;
  return config.defaultLevel;
}
