import { describe, expect, it } from "bun:test";
import type { LatencyObjective } from "../../src/config/latency-objective.ts";
import { type AdaptiveState, decideAdaptive } from "../../src/scheduler/adaptive-batching.ts";
import type { BatchRules } from "../../src/scheduler/batch-rules.ts";
import { PendingRequest } from "../../src/scheduler/pending-request.ts";
import { request } from "../support/scheduler-kit.ts";

const NOW = 10_000;
const OBJECTIVE: LatencyObjective = { objectiveMs: 50, percentile: 99, lateRequests: "serve" };
const RULES: BatchRules = { batching: true, maxBatchSize: 16, preferredSizes: [], maxDelayMs: 0 };

/** A queued request that arrived `ageMs` before NOW. */
function queued(id: number, ageMs: number, rows = 1): PendingRequest {
  const built = request(id, { rows });
  (built.timing as { received: number }).received = NOW - ageMs;
  built.timing.queued = NOW - ageMs;
  return new PendingRequest(built, rows);
}

/** Execution time 2 ms + 0.1 ms per row: batching amortises the fixed part. */
const linear = (size: number) => 2 + 0.1 * size;

function state(overrides: Partial<AdaptiveState> = {}): AdaptiveState {
  return {
    now: NOW,
    objective: OBJECTIVE,
    rules: RULES,
    predict: linear,
    expected: linear,
    arrivalsPerMs: 0.01,
    instances: 1,
    freeInstances: 1,
    ...overrides,
  };
}

const ids = (requests: PendingRequest[]) => requests.map((pending) => Number(pending.request.id));

describe("decideAdaptive", () => {
  it("runs a request at once when batches of one keep up with the arrivals (no needless delay)", () => {
    const decision = decideAdaptive([queued(1, 0)], state({ arrivalsPerMs: 0.1 }));
    expect(decision).toMatchObject({ kind: "run", targetSize: 1 });
  });

  it("runs at once before any execution was seen (nothing to predict from)", () => {
    const decision = decideAdaptive(
      [queued(1, 0)],
      state({ arrivalsPerMs: 5, predict: () => undefined, expected: () => undefined }),
    );
    expect(decision).toMatchObject({ kind: "run", targetSize: 1 });
  });

  it("waits for the batch size that keeps up with the arrivals", () => {
    // 1 per ms × 1.25 headroom: the smallest b with b / (2 + 0.1 b) ≥ 1.25 is 3.
    const decision = decideAdaptive([queued(1, 0.5), queued(2, 0.2)], state({ arrivalsPerMs: 1 }));
    expect(decision.kind).toBe("wait");
    if (decision.kind !== "wait") return;
    expect(decision.targetSize).toBe(3);
    // For at most a fifth of the objective after the oldest was queued.
    expect(decision.until).toBeCloseTo(NOW - 0.5 + 10, 6);
  });

  it("judges throughput by the mean execution time, not the percentile's", () => {
    // Mean 2.1 ms for one: 0.3 per ms × 1.25 keeps up; the noisy p99 (7.1 ms) alone would not.
    const noisy = state({ arrivalsPerMs: 0.3, predict: (size) => linear(size) + 5 });
    expect(decideAdaptive([queued(1, 0)], noisy)).toMatchObject({ kind: "run", targetSize: 1 });
  });

  it("runs once that size is queued", () => {
    const queue = [1, 2, 3].map((id) => queued(id, 0.2));
    expect(decideAdaptive(queue, state({ arrivalsPerMs: 1 }))).toMatchObject({ kind: "run", targetSize: 3 });
  });

  it("shares the arrival rate over the instances", () => {
    const decision = decideAdaptive([queued(1, 0.5)], state({ arrivalsPerMs: 2, instances: 2 }));
    expect(decision).toMatchObject({ kind: "wait", targetSize: 3 });
  });

  it("never waits longer than a fifth of the objective", () => {
    const decision = decideAdaptive([queued(1, 10.1), queued(2, 0.2)], state({ arrivalsPerMs: 1 }));
    expect(decision.kind).toBe("run");
  });

  it("stops waiting when a longer wait would make the oldest miss the objective", () => {
    const objective = { ...OBJECTIVE, objectiveMs: 3 };
    // Latest start: arrival + 3 − 10 % kept for the answer − predicted execution of 3 (2.3 ms) = arrival + 0.4.
    const decision = decideAdaptive([queued(1, 0.5), queued(2, 0.2)], state({ arrivalsPerMs: 1, objective }));
    expect(decision.kind).toBe("run");
  });

  it("treats max_queue_delay_microseconds as an upper bound on the wait", () => {
    const rules = { ...RULES, maxDelayMs: 0.5 };
    const decision = decideAdaptive([queued(1, 0.2)], state({ arrivalsPerMs: 1, rules }));
    expect(decision.kind).toBe("wait");
    if (decision.kind === "wait") expect(decision.until).toBeCloseTo(NOW + 0.3, 6);
    expect(decideAdaptive([queued(1, 0.5)], state({ arrivalsPerMs: 1, rules })).kind).toBe("run");
  });

  it("never waits to grow past the largest preferred batch size", () => {
    const rules = { ...RULES, preferredSizes: [2] };
    const decision = decideAdaptive([queued(1, 0.1), queued(2, 0.1)], state({ arrivalsPerMs: 3.5, rules }));
    expect(decision.kind).toBe("run");
  });

  it("aims at max_batch_size but never idles the instance when even full batches cannot keep up", () => {
    // Overload: 100 per ms against at most 16 / 3.6 ms. The backlog makes the batches.
    const decision = decideAdaptive([queued(1, 0.1)], state({ arrivalsPerMs: 100 }));
    expect(decision).toMatchObject({ kind: "run", targetSize: 16 });
  });

  it("waits for max_batch_size when full batches just keep up", () => {
    // 3.5 per ms × 1.25 = 4.375: only 16 / 3.6 ms = 4.44 per ms does.
    const decision = decideAdaptive([queued(1, 0.1)], state({ arrivalsPerMs: 3.5 }));
    expect(decision).toMatchObject({ kind: "wait", targetSize: 16 });
  });

  it("does not wait without evidence that batching raises throughput (one batch size seen)", () => {
    const onlyOneSize = (size: number) => 2 * size;
    const decision = decideAdaptive(
      [queued(1, 0.1)],
      state({ arrivalsPerMs: 100, predict: onlyOneSize, expected: onlyOneSize }),
    );
    expect(decision).toMatchObject({ kind: "run", targetSize: 1 });
  });

  it("shares what is queued over the free instances", () => {
    const queue = [1, 2, 3, 4, 5, 6, 7, 8].map((id) => queued(id, 1));
    const decision = decideAdaptive(queue, state({ arrivalsPerMs: 0.1, instances: 2, freeInstances: 2 }));
    expect(decision.kind).toBe("run");
    if (decision.kind === "run") expect(ids(decision.requests)).toEqual([1, 2, 3, 4]);
  });

  it("runs without waiting when the next request cannot join the batch", () => {
    const decision = decideAdaptive([queued(1, 1), queued(2, 1, 16)], state({ arrivalsPerMs: 2 }));
    expect(decision).toMatchObject({ kind: "run" });
  });

  it("without batching (the default scheduler) runs the head request alone", () => {
    const rules = { ...RULES, batching: false };
    const decision = decideAdaptive([queued(1, 1), queued(2, 1)], state({ arrivalsPerMs: 2, rules }));
    expect(decision.kind).toBe("run");
    if (decision.kind === "run") expect(ids(decision.requests)).toEqual([1]);
  });

  describe("late requests", () => {
    const reject: LatencyObjective = { ...OBJECTIVE, lateRequests: "reject" };
    // Alone, a request executes in 2.1 ms and 5 ms (a tenth of 50) are kept for its answer:
    // it can still make 50 ms only if it waited ≤ 42.9 ms.
    it("rejects exactly the requests whose wait plus the predicted execution and answer exceeds the objective", () => {
      const queue = [queued(1, 42.95), queued(2, 42.85)];
      const decision = decideAdaptive(queue, state({ objective: reject, arrivalsPerMs: 0.1 }));
      // Both would run together: 2 + 0.2 = 2.2 ms, so 42.85 + 2.2 + 5 > 50 as well.
      expect(decision.kind).toBe("reject");
      if (decision.kind === "reject") expect(ids(decision.requests)).toEqual([1, 2]);
      const alone = decideAdaptive([queued(3, 42.85)], state({ objective: reject, arrivalsPerMs: 0.1 }));
      expect(alone.kind).toBe("run");
      const late = decideAdaptive([queued(4, 42.95)], state({ objective: reject, arrivalsPerMs: 0.1 }));
      expect(late.kind).toBe("reject");
    });

    it("serves late requests by default", () => {
      const decision = decideAdaptive([queued(1, 80)], state({ arrivalsPerMs: 0.1 }));
      expect(decision.kind).toBe("run");
    });

    it("rejects on the wait and the answer's share alone before any execution was seen", () => {
      const fresh = state({ objective: reject, predict: () => undefined, expected: () => undefined });
      expect(decideAdaptive([queued(1, 44.9)], fresh).kind).toBe("run");
      expect(decideAdaptive([queued(1, 45.1)], fresh).kind).toBe("reject");
    });
  });
});
