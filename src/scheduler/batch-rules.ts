import type { PendingRequest } from "./pending-request.ts";

/** How a queue turns into executions. */
export interface BatchRules {
  /** False: one request per execution (the default scheduler). */
  batching: boolean;
  maxBatchSize: number;
  /** Ascending. */
  preferredSizes: number[];
  maxDelayMs: number;
}

export type BatchDecision =
  | { kind: "run"; requests: PendingRequest[] }
  | { kind: "wait"; until: number }
  | { kind: "idle" };

/**
 * Triton's dynamic batching decision over the queue in priority/arrival
 * order. Requests join in order while they fit `max_batch_size` and have
 * the same non-batch shapes. The batch goes now when it is full, when a
 * preferred size can be formed (the largest one), when it cannot grow (the
 * next request does not fit or differs), when there is no delay, or when the
 * oldest request has waited `max_queue_delay`; otherwise the batcher waits.
 */
export function decideBatch(queue: Iterable<PendingRequest>, rules: BatchRules, now: number): BatchDecision {
  const gathered = gatherBatch(queue, rules);
  if (!gathered) return { kind: "idle" };
  const { candidates, totals, total, canGrow } = gathered;
  if (!rules.batching) return { kind: "run", requests: candidates };
  if (total >= rules.maxBatchSize) return { kind: "run", requests: candidates };
  for (let i = rules.preferredSizes.length - 1; i >= 0; i--) {
    const at = totals.indexOf(rules.preferredSizes[i] as number);
    if (at >= 0) return { kind: "run", requests: candidates.slice(0, at + 1) };
  }
  const first = candidates[0] as PendingRequest;
  const deadline = first.queuedAt + rules.maxDelayMs;
  if (!canGrow || rules.maxDelayMs <= 0 || now >= deadline) return { kind: "run", requests: candidates };
  return { kind: "wait", until: deadline };
}

/** The requests at the head of the queue that can share one execution. */
export interface GatheredBatch {
  /** In queue order; the first is the head of the queue. */
  candidates: PendingRequest[];
  /** Running total of batch elements: totals[i] = sizes of candidates[0..i]. */
  totals: number[];
  total: number;
  /** False when the next queued request cannot join (it does not fit or differs in shape). */
  canGrow: boolean;
}

/**
 * Requests join in queue order while they fit `max_batch_size` and have
 * the same non-batch shapes as the first; without batching only the first.
 */
export function gatherBatch(queue: Iterable<PendingRequest>, rules: BatchRules): GatheredBatch | undefined {
  const iterator = queue[Symbol.iterator]();
  const first = iterator.next().value as PendingRequest | undefined;
  if (!first) return undefined;
  const candidates = [first];
  const totals = [first.batchSize];
  let total = first.batchSize;
  if (!rules.batching) return { candidates, totals, total, canGrow: false };
  let canGrow = true;
  for (let next = iterator.next(); !next.done; next = iterator.next()) {
    const pending = next.value;
    if (pending.shapeKey !== first.shapeKey || total + pending.batchSize > rules.maxBatchSize) {
      canGrow = false;
      break;
    }
    candidates.push(pending);
    total += pending.batchSize;
    totals.push(total);
  }
  return { candidates, totals, total, canGrow: canGrow && total < rules.maxBatchSize };
}
