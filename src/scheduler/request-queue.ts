import { FerryError } from "../core/errors.ts";
import type { PendingRequest } from "./pending-request.ts";
import { effectiveTimeoutUs, levelOf, type QueueConfig } from "./queue-policy.ts";

interface Level {
  /** Requests in arrival order that have not timed out. */
  fresh: PendingRequest[];
  /** Requests past their timeout under DELAY, behind every fresh one of this level. */
  delayed: PendingRequest[];
}

/**
 * The waiting room in front of the instances: strict priority across levels
 * (1 highest), FIFO within a level, per-level size limits and queue timeouts.
 * A request leaves it when taken for a batch, when its signal aborts, or when
 * its timeout expires under REJECT; in each case `hooks.left` is told.
 */
export class RequestQueue {
  private readonly levels: Level[];
  private count = 0;

  constructor(
    private readonly config: QueueConfig,
    private readonly hooks: {
      /** A request left the queue, for whatever reason. */
      left(pending: PendingRequest): void;
      /** A request's timeout expired under REJECT; it already left. */
      expired(pending: PendingRequest, error: FerryError): void;
    },
  ) {
    this.levels = Array.from({ length: config.levels }, () => ({ fresh: [], delayed: [] }));
  }

  /** When each queued request with a timeout expires, and how. */
  private readonly deadlines = new Map<PendingRequest, { at: number; expire: () => void }>();

  get size(): number {
    return this.count;
  }

  /** Adds a request or throws RESOURCE_EXHAUSTED when its level is full. */
  push(pending: PendingRequest, model: string): void {
    const levelNumber = levelOf(this.config, pending.request.priority);
    const policy = this.config.policies[levelNumber - 1];
    const level = this.levels[levelNumber - 1];
    if (!policy || !level) throw new FerryError("INTERNAL", "scheduler", `no queue level ${levelNumber}`);
    const queued = level.fresh.length + level.delayed.length;
    if (policy.maxQueueSize > 0 && queued >= policy.maxQueueSize) {
      throw new FerryError(
        "RESOURCE_EXHAUSTED",
        "scheduler",
        `Exceeds maximum queue size: model '${model}' priority level ${levelNumber} already holds ${queued} requests (max_queue_size ${policy.maxQueueSize})`,
      );
    }
    pending.level = levelNumber;
    level.fresh.push(pending);
    this.count++;
    const timeoutUs = effectiveTimeoutUs(policy, pending.request.timeoutUs);
    if (timeoutUs > 0) {
      const expire = () => this.expire(pending, policy.onTimeout, timeoutUs);
      this.deadlines.set(pending, { at: performance.now() + timeoutUs / 1000, expire });
      pending.timer = setTimeout(expire, timeoutUs / 1000);
    }
  }

  /** Requests in the order batches take them: each level's fresh, then its delayed, level 1 first. */
  *inOrder(): Generator<PendingRequest> {
    for (const level of this.levels) {
      yield* level.fresh;
      yield* level.delayed;
    }
  }

  first(): PendingRequest | undefined {
    return this.inOrder().next().value ?? undefined;
  }

  /**
   * Expires every request whose timeout has passed by `now`: a batch must
   * never take one, even when its timer has not fired yet (timers run at
   * millisecond granularity, after whatever the event loop is doing).
   */
  expireOverdue(now: number): void {
    for (const [pending, deadline] of [...this.deadlines]) {
      if (deadline.at > now) continue;
      if (pending.timer) clearTimeout(pending.timer);
      deadline.expire();
    }
  }

  /** Takes requests out of the queue (they are about to execute). */
  take(taken: readonly PendingRequest[]): void {
    for (const pending of taken) this.remove(pending);
  }

  /** Removes a request if still queued; returns whether it was. */
  remove(pending: PendingRequest): boolean {
    const level = this.levels[(pending.level ?? 1) - 1];
    if (!level) return false;
    const removed = removeFrom(level.fresh, pending) || removeFrom(level.delayed, pending);
    if (!removed) return false;
    this.count--;
    if (pending.timer) clearTimeout(pending.timer);
    this.deadlines.delete(pending);
    this.hooks.left(pending);
    return true;
  }

  private expire(pending: PendingRequest, action: "reject" | "delay", timeoutUs: number): void {
    this.deadlines.delete(pending);
    if (action === "reject") {
      if (this.remove(pending)) {
        this.hooks.expired(
          pending,
          new FerryError(
            "UNAVAILABLE",
            "scheduler",
            `Request timeout expired after ${timeoutUs} µs in the queue`,
          ),
        );
      }
      return;
    }
    const level = this.levels[(pending.level ?? 1) - 1];
    if (level && removeFrom(level.fresh, pending)) level.delayed.push(pending);
  }
}

function removeFrom(list: PendingRequest[], pending: PendingRequest): boolean {
  const index = list.indexOf(pending);
  if (index < 0) return false;
  list.splice(index, 1);
  return true;
}
