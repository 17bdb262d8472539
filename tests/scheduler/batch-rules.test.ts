import { describe, expect, it } from "bun:test";
import { type BatchRules, decideBatch } from "../../src/scheduler/batch-rules.ts";
import { PendingRequest } from "../../src/scheduler/pending-request.ts";
import { request } from "../support/scheduler-kit.ts";

/** Queued requests of the given row counts, queued at the given times (ms). */
function queued(rows: number[], at: number[] = rows.map(() => 0), width = 2): PendingRequest[] {
  return rows.map((count, i) => {
    const pending = new PendingRequest(request(i, { rows: count, width }), count);
    pending.request.timing.queued = at[i] ?? 0;
    return pending;
  });
}
const rules = (overrides: Partial<BatchRules> = {}): BatchRules => ({
  batching: true,
  maxBatchSize: 8,
  preferredSizes: [],
  maxDelayMs: 0,
  ...overrides,
});
const ids = (decision: ReturnType<typeof decideBatch>) =>
  decision.kind === "run" ? decision.requests.map((pending) => pending.request.id) : decision;

describe("decideBatch (fake clock)", () => {
  it("is idle on an empty queue", () => {
    expect(decideBatch([], rules(), 0)).toEqual({ kind: "idle" });
  });

  it("takes one request at a time without batching", () => {
    expect(ids(decideBatch(queued([1, 1]), rules({ batching: false }), 0))).toEqual(["0"]);
  });

  it("takes everything that fits when there is no delay", () => {
    expect(ids(decideBatch(queued([1, 2, 3]), rules(), 0))).toEqual(["0", "1", "2"]);
  });

  it("counts each request's own batch dimension against max_batch_size", () => {
    expect(ids(decideBatch(queued([4, 3, 2]), rules({ maxDelayMs: 100 }), 0))).toEqual(["0", "1"]);
  });

  it("waits until the oldest request's delay runs out, then sends", () => {
    const queue = queued([1, 1], [10, 30]);
    expect(decideBatch(queue, rules({ maxDelayMs: 50 }), 40)).toEqual({ kind: "wait", until: 60 });
    expect(ids(decideBatch(queue, rules({ maxDelayMs: 50 }), 60))).toEqual(["0", "1"]);
  });

  it("sends a full batch without waiting", () => {
    expect(ids(decideBatch(queued([4, 4]), rules({ maxDelayMs: 1e9 }), 0))).toEqual(["0", "1"]);
  });

  it("sends the largest preferred size that a prefix reaches", () => {
    const decision = decideBatch(
      queued([1, 1, 1, 1, 1]),
      rules({ preferredSizes: [2, 4], maxDelayMs: 1e9 }),
      0,
    );
    expect(ids(decision)).toEqual(["0", "1", "2", "3"]);
  });

  it("waits when no preferred size is reachable yet", () => {
    expect(decideBatch(queued([3]), rules({ preferredSizes: [2, 4], maxDelayMs: 5 }), 0)).toEqual({
      kind: "wait",
      until: 5,
    });
  });

  it("sends at once when the next request has other shapes and the batch cannot grow", () => {
    const queue = [...queued([1]), ...queued([1], [0], 7)];
    expect(ids(decideBatch(queue, rules({ maxDelayMs: 1e9 }), 0))).toEqual(["0"]);
  });
});
