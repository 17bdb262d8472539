import type { LatencyObjective } from "../config/latency-objective.ts";
import { type BatchRules, gatherBatch } from "./batch-rules.ts";
import type { PendingRequest } from "./pending-request.ts";

/**
 * Share of the objective kept back for what follows the execution (splitting
 * outputs, encoding, sending): waits plan to finish within the rest.
 */
export const AFTER_EXECUTION_SHARE = 0.1;
/** Batches should make the instances able to take this much more than the arrival rate (busy at most 80 %). */
const KEEP_UP_HEADROOM = 1.25;
/** The longest wait for a batch that keeps up, as a share of the objective. */
const WAIT_SHARE = 0.2;

/** What the batcher knows at one dispatch decision. */
export interface AdaptiveState {
  now: number;
  objective: LatencyObjective;
  rules: BatchRules;
  /** Predicted execution time (ms, at the objective's percentile) of a batch of `size` on the free instance. */
  predict(size: number): number | undefined;
  /** Its mean execution time (ms): what throughput follows. */
  expected(size: number): number | undefined;
  /** Requests (batch elements) arriving per ms, recently. */
  arrivalsPerMs: number;
  /** Instances the load is shared by, and how many are free now. */
  instances: number;
  freeInstances: number;
}

export type AdaptiveDecision =
  | { kind: "idle" }
  /** Fail these first: with the batch they would join now they would be answered after the objective. */
  | { kind: "reject"; requests: PendingRequest[]; executionMs: number; answerMs: number }
  | { kind: "run"; requests: PendingRequest[]; targetSize: number }
  | { kind: "wait"; until: number; targetSize: number };

/**
 * Dynamic batching for a latency objective, decided whenever an instance is
 * free. The batch worth waiting for is the smallest whose throughput (size /
 * predicted execution time) keeps the instances at most 80 % busy at the
 * current arrival rate: 1 when quiet — what is queued runs at once, no
 * needless delay — and larger as load grows, when batching raises
 * throughput at all. Below it the batcher waits (unless even full batches
 * cannot keep up: then it never idles an instance), for at most a fifth of the
 * objective, never past the point where the oldest request could still meet
 * the objective (keeping a tenth of it for the answer), and never beyond
 * max_queue_delay_microseconds when that is set; it never waits to grow past
 * the largest preferred_batch_size (or max_batch_size). Whatever is queued
 * runs together, shared evenly when several instances are free. With late
 * requests rejected, a request whose wait plus the predicted execution of
 * its batch plus the tenth kept for the answer exceeds the objective is
 * failed instead of run.
 */
export function decideAdaptive(queue: Iterable<PendingRequest>, state: AdaptiveState): AdaptiveDecision {
  const gathered = gatherBatch(queue, state.rules);
  if (!gathered) return { kind: "idle" };
  const { candidates, totals, total, canGrow } = gathered;
  const { now, objective, rules } = state;

  let take = candidates.length;
  if (state.freeInstances > 1) {
    const share = Math.ceil(total / state.freeInstances);
    take = totals.findIndex((sum) => sum >= share) + 1 || candidates.length;
  }
  const batch = candidates.slice(0, take);
  const size = totals[take - 1] as number;

  if (objective.lateRequests === "reject") {
    const executionMs = state.predict(size) ?? 0;
    const answerMs = objective.objectiveMs * AFTER_EXECUTION_SHARE;
    const answeredAt = now + executionMs + answerMs;
    const late = batch.filter((pending) => answeredAt > deadlineOf(pending, objective));
    if (late.length > 0) return { kind: "reject", requests: late, executionMs, answerMs };
  }
  const keepUp = rules.batching ? keepUpSize(state) : { size: 1, reachable: true };
  const targetSize = keepUp.size;
  const largestPreferred = rules.preferredSizes[rules.preferredSizes.length - 1];
  const cap = Math.min(rules.maxBatchSize, largestPreferred ?? rules.maxBatchSize);
  if (!canGrow || take < candidates.length || total >= Math.min(targetSize, cap) || !keepUp.reachable)
    return { kind: "run", requests: batch, targetSize };

  const first = candidates[0] as PendingRequest;
  const latestStart =
    deadlineOf(first, objective) -
    objective.objectiveMs * AFTER_EXECUTION_SHARE -
    (state.predict(total + 1) ?? 0);
  let until = Math.min(first.queuedAt + objective.objectiveMs * WAIT_SHARE, latestStart);
  if (rules.maxDelayMs > 0) until = Math.min(until, first.queuedAt + rules.maxDelayMs);
  if (until <= now) return { kind: "run", requests: batch, targetSize };
  return { kind: "wait", until, targetSize };
}

/**
 * The smallest batch size whose throughput (size / execution time) keeps the
 * instances at most 1 / KEEP_UP_HEADROOM busy at the current arrival rate;
 * 1 when batching does not raise throughput (nothing to gain by waiting).
 * Unreachable when even max_batch_size cannot keep up: then the instance is
 * never left idle — the backlog makes the batches large.
 */
function keepUpSize(state: AdaptiveState): { size: number; reachable: boolean } {
  const need = (state.arrivalsPerMs / Math.max(1, state.instances)) * KEEP_UP_HEADROOM;
  const single = state.expected(1);
  const full = state.expected(state.rules.maxBatchSize);
  if (need <= 0 || single === undefined || full === undefined) return { size: 1, reachable: true };
  if (state.rules.maxBatchSize / full <= (1 / single) * 1.05) return { size: 1, reachable: true };
  for (let size = 1; size <= state.rules.maxBatchSize; size++) {
    const ms = state.expected(size) as number;
    if (ms <= 0 || size / ms >= need) return { size, reachable: true };
  }
  return { size: state.rules.maxBatchSize, reachable: false };
}

/** When a request's answer is due: its arrival at the server plus the objective. */
export function deadlineOf(pending: PendingRequest, objective: LatencyObjective): number {
  return pending.request.timing.received + objective.objectiveMs;
}
