import { describe, expect, it } from "bun:test";
import { readConfigText } from "../../src/config/read-config.ts";
import { effectiveTimeoutUs, levelOf, queueConfigOf } from "../../src/scheduler/queue-policy.ts";

describe("queueConfigOf", () => {
  it("reads levels, the default level and per-level policies", () => {
    const config = readConfigText(
      `dynamic_batching {
        priority_levels: 3 default_priority_level: 2
        default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 500 max_queue_size: 9 }
        priority_queue_policy { key: 1 value { allow_timeout_override: true max_queue_size: 1 } }
      }`,
      "c",
    );
    if (config.schedulingChoice.case !== "dynamicBatching") throw new Error("expected dynamic_batching");
    const queue = queueConfigOf(config.schedulingChoice.value);
    expect(queue.levels).toBe(3);
    expect(queue.defaultLevel).toBe(2);
    expect(queue.policies[0]).toEqual({
      onTimeout: "reject",
      defaultTimeoutUs: 0,
      allowTimeoutOverride: true,
      maxQueueSize: 1,
    });
    expect(queue.policies[2]).toEqual({
      onTimeout: "delay",
      defaultTimeoutUs: 500,
      allowTimeoutOverride: false,
      maxQueueSize: 9,
    });
  });
});

describe("levelOf", () => {
  const config = { levels: 3, defaultLevel: 2, policies: [] };
  it("uses a valid priority and the default level otherwise", () => {
    expect([1, 3, 0, 4, undefined].map((priority) => levelOf(config, priority))).toEqual([1, 3, 2, 2, 2]);
  });
});

describe("effectiveTimeoutUs", () => {
  const policy = {
    onTimeout: "reject" as const,
    defaultTimeoutUs: 1000,
    allowTimeoutOverride: true,
    maxQueueSize: 0,
  };
  it("lets a request shorten but never lengthen the default timeout", () => {
    expect(effectiveTimeoutUs(policy, 200)).toBe(200);
    expect(effectiveTimeoutUs(policy, 5000)).toBe(1000);
    expect(effectiveTimeoutUs(policy, undefined)).toBe(1000);
  });
  it("ignores the request's timeout unless the policy allows overriding", () => {
    expect(effectiveTimeoutUs({ ...policy, allowTimeoutOverride: false }, 200)).toBe(1000);
  });
  it("takes the request's timeout when the level has none", () => {
    expect(effectiveTimeoutUs({ ...policy, defaultTimeoutUs: 0 }, 700)).toBe(700);
  });
});
