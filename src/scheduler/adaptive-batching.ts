import type { LatencyObjective } from "../config/latency-objective.ts";
import { type BatchRules, gatherBatch } from "./batch-rules.ts";
import type { PendingRequest } from "./pending-request.ts";

/**
 * Share of the objective kept back for what follows the execution (splitting
 * outputs, encoding, sending): waits plan to finish within the rest.
 */
export const AFTER_EXECUTION_SHARE = 0.1;

/** What the batcher knows at one dispatch decision. */
export interface AdaptiveState {
  now: number;
  objective: LatencyObjective;
  rules: BatchRules;
  /** Predicted execution time (ms, at the objective's percentile) of a batch of `size` on the free instance. */
  predict(size: number): number | undefined;
  /** Requests (batch elements) arriving per ms, recently. */
  arrivalsPerMs: number;
  /** Instances free now. */
  freeInstances: number;
}

export type AdaptiveDecision =
  | { kind: "idle" }
  /** Fail these first: with the batch they would join now they finish after the objective. */
  | { kind: "reject"; requests: PendingRequest[]; finishMs: number }
  | { kind: "run"; requests: PendingRequest[]; targetSize: number }
  | { kind: "wait"; until: number; targetSize: number };

/**
 * Dynamic batching for a latency objective, decided whenever an instance is
 * free. Running what is queued at once keeps the instance busy, and batches
 * grow by themselves while it is (what queues during one execution is the
 * next batch). Waiting pays only when the next request is expected so soon
 * that joining this batch saves it more — an execution of its own — than
 * the wait costs the requests already queued:
 *
 *     wait while  execution(1) > (queued + 1) × (expected gap + execution(queued + 1) − execution(queued))
 *
 * and never longer than one execution of a single request, never past the
 * point where the oldest request could still meet the objective, and never
 * beyond max_queue_delay_microseconds when that is set. The batch never
 * waits to grow past the largest preferred_batch_size (or max_batch_size).
 * Whatever is queued runs together, shared evenly when several instances are
 * free. With late requests rejected, a request whose wait plus the predicted
 * execution of its batch exceeds the objective is failed instead of run.
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
    const finishMs = now + (state.predict(size) ?? 0);
    const late = batch.filter((pending) => finishMs > deadlineOf(pending, objective));
    if (late.length > 0) return { kind: "reject", requests: late, finishMs };
  }
  const targetSize = rules.batching ? worthWaitingFor(state) : 1;
  const largestPreferred = rules.preferredSizes[rules.preferredSizes.length - 1];
  const cap = Math.min(rules.maxBatchSize, largestPreferred ?? rules.maxBatchSize);
  if (!canGrow || take < candidates.length || total >= Math.min(targetSize, cap))
    return { kind: "run", requests: batch, targetSize };

  const first = candidates[0] as PendingRequest;
  const latestStart =
    deadlineOf(first, objective) -
    objective.objectiveMs * AFTER_EXECUTION_SHARE -
    (state.predict(total + 1) ?? 0);
  let until = Math.min(first.queuedAt + (state.predict(1) ?? 0), latestStart);
  if (rules.maxDelayMs > 0) until = Math.min(until, first.queuedAt + rules.maxDelayMs);
  if (until <= now) return { kind: "run", requests: batch, targetSize };
  return { kind: "wait", until, targetSize };
}

/** When a request's answer is due: its arrival at the server plus the objective. */
export function deadlineOf(pending: PendingRequest, objective: LatencyObjective): number {
  return pending.request.timing.received + objective.objectiveMs;
}

/**
 * The queue length at which waiting for one more request stops paying:
 * the smallest n with execution(1) ≤ (n + 1) × (gap + marginal cost);
 * 1 when arrivals are sparse or nothing was executed yet.
 */
function worthWaitingFor(state: AdaptiveState): number {
  const single = state.predict(1);
  if (single === undefined || state.arrivalsPerMs <= 0) return 1;
  const gapMs = 1 / state.arrivalsPerMs;
  for (let queued = 1; queued < state.rules.maxBatchSize; queued++) {
    const marginal = Math.max(0, (state.predict(queued + 1) ?? 0) - (state.predict(queued) ?? 0));
    if (single <= (queued + 1) * (gapMs + marginal)) return queued;
  }
  return state.rules.maxBatchSize;
}
