import type { Batch, ModelInstance } from "../backends/backend.ts";
import type { LatencyObjective } from "../config/latency-objective.ts";
import { concatAlongBatch } from "../core/batch-split.ts";
import { FerryError } from "../core/errors.ts";
import type { InferenceObserver } from "../core/observer.ts";
import type { InferRequest, InferResponse } from "../core/request.ts";
import type { Tensor } from "../core/tensor.ts";
import { AdaptiveBatcher, type BatchingReport } from "./adaptive-batcher.ts";
import { batchRequest } from "./batch-request.ts";
import { type BatchRules, decideBatch } from "./batch-rules.ts";
import type { InstancePool } from "./instance-pool.ts";
import { PendingRequest } from "./pending-request.ts";
import type { QueueConfig } from "./queue-policy.ts";
import { RequestQueue } from "./request-queue.ts";
import { ResponseOrder } from "./response-order.ts";
import type { Scheduler } from "./scheduler.ts";

export interface BatchingSchedulerOptions {
  model: string;
  version: string;
  pool: InstancePool;
  /** Every output name, produced when a request asks for none in particular. */
  allOutputs: string[];
  observer: InferenceObserver;
  rules: BatchRules;
  queue: QueueConfig;
  preserveOrdering: boolean;
  /** `ferry.latency_objective_ms`: batch adaptively for it instead of waiting a fixed delay. */
  objective?: LatencyObjective;
}

/**
 * Triton's default scheduler (`rules.batching` false: one request per
 * execution) and dynamic batcher, on the event loop. Requests wait in a
 * priority queue; whenever an instance is free the batch rules decide what
 * runs; inputs are joined once per batch and outputs split back by views.
 * An aborted or expired request leaves the queue and never takes a batch slot.
 * With a latency objective the adaptive batcher decides instead of the
 * fixed delay, learning execution times from every batch.
 */
export class BatchingScheduler implements Scheduler {
  private readonly queue: RequestQueue;
  private readonly order: ResponseOrder | undefined;
  private waitTimer: ReturnType<typeof setTimeout> | undefined;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  /** Requests handed to an instance and not yet answered. */
  private readonly running = new Set<PendingRequest>();
  private readonly adaptive: AdaptiveBatcher | undefined;

  constructor(private readonly options: BatchingSchedulerOptions) {
    this.order = options.preserveOrdering ? new ResponseOrder() : undefined;
    if (options.objective) {
      this.adaptive = new AdaptiveBatcher(options.objective, options.rules.maxBatchSize);
      options.observer.objectiveSet?.(options.objective.objectiveMs, options.objective.percentile);
    }
    this.queue = new RequestQueue(options.queue, {
      left: (pending) => {
        if (!pending.request.internal) options.observer.dequeued();
      },
      expired: (pending, error) => this.answer(pending, () => pending.fail(error)),
    });
  }

  enqueue(request: InferRequest, batchSize: number): Promise<InferResponse> {
    const { model, version } = this.options;
    if (this.draining) {
      return Promise.reject(
        new FerryError("UNAVAILABLE", "scheduler", `model '${model}' version ${version} is unloading`),
      );
    }
    const pending = new PendingRequest(request, batchSize);
    if (request.signal.aborted) {
      pending.fail(pending.cancelled());
      return pending.response;
    }
    request.timing.queued = performance.now();
    this.adaptive?.arrived(request.timing.queued, batchSize);
    try {
      this.queue.push(pending, model);
    } catch (error) {
      pending.fail(FerryError.from(error, "scheduler"));
      return pending.response;
    }
    if (!request.internal) this.options.observer.queued();
    this.order?.track(pending);
    request.signal.addEventListener("abort", () => this.abandon(pending), { once: true });
    this.dispatch();
    return pending.response;
  }

  pendingCount(): number {
    return this.queue.size;
  }

  /** The adaptive batcher's objective, arrival rate and learned execution times; undefined without an objective. */
  batchingReport(): BatchingReport | undefined {
    return this.adaptive?.report();
  }

  abort(error: FerryError): void {
    this.draining = true;
    for (const pending of [...this.queue.inOrder()]) {
      this.queue.remove(pending);
      pending.fail(error);
    }
    for (const pending of this.running) pending.fail(error);
    this.notifyIfIdle();
  }

  drain(): Promise<void> {
    this.draining = true;
    this.dispatch();
    return this.whenIdle();
  }

  private abandon(pending: PendingRequest): void {
    if (this.queue.remove(pending)) {
      this.answer(pending, () => pending.fail(pending.cancelled()));
      this.notifyIfIdle();
    }
  }

  /** Runs batches while instances are free and the rules say go. */
  private dispatch(): void {
    if (this.waitTimer) {
      clearTimeout(this.waitTimer);
      this.waitTimer = undefined;
    }
    const { pool } = this.options;
    const rules = this.draining ? { ...this.options.rules, maxDelayMs: 0 } : this.options.rules;
    while (pool.hasFree()) {
      const now = performance.now();
      this.queue.expireOverdue(now);
      if (this.adaptive && !this.draining) {
        if (this.dispatchAdaptive(this.adaptive, now)) continue;
        break;
      }
      const decision = decideBatch(this.queue.inOrder(), rules, now);
      if (decision.kind === "idle") break;
      if (decision.kind === "wait") {
        this.waitTimer = setTimeout(() => this.dispatch(), Math.max(0, decision.until - now));
        break;
      }
      this.queue.take(decision.requests);
      this.run(pool.acquire() as ModelInstance, decision.requests);
    }
    this.notifyIfIdle();
  }

  /** One adaptive decision; true when it took requests off the queue and another may follow. */
  private dispatchAdaptive(adaptive: AdaptiveBatcher, now: number): boolean {
    const { pool, observer, model, version } = this.options;
    const decision = adaptive.decide(this.queue.inOrder(), this.options.rules, now, pool);
    switch (decision.kind) {
      case "idle":
        return false;
      case "reject":
        for (const pending of decision.requests) {
          this.queue.remove(pending);
          if (!pending.request.internal) observer.rejectedLate?.();
          const error = adaptive.lateError(
            pending,
            now,
            decision.executionMs,
            decision.answerMs,
            model,
            version,
          );
          this.answer(pending, () => pending.fail(error));
        }
        return true;
      case "wait":
        observer.batchingDecided?.(adaptive.lastDecision.waitUs, decision.targetSize);
        this.waitTimer = setTimeout(() => this.dispatch(), Math.max(0, decision.until - now));
        return false;
      case "run":
        observer.batchingDecided?.(0, decision.targetSize);
        this.queue.take(decision.requests);
        this.run(pool.acquire() as ModelInstance, decision.requests);
        return true;
    }
  }

  private run(instance: ModelInstance, requests: PendingRequest[]): void {
    const batch = this.assemble(requests);
    for (const pending of requests) this.running.add(pending);
    const started = performance.now();
    instance
      .execute(batch)
      .then(
        (results) => {
          const finished = performance.now();
          const rows = batch.sizes.reduce((sum, size) => sum + size, 0);
          const { adaptive } = this;
          if (adaptive) {
            adaptive.executed(instance, rows, finished - started);
            requests.forEach((pending, index) => {
              if (!pending.request.internal && !(results[index] instanceof FerryError))
                this.options.observer.objectiveOutcome?.(adaptive.withinObjective(pending, finished));
            });
          }
          if (requests.some((pending) => !pending.request.internal)) {
            this.options.observer.executed(rows, batch.clocks);
          }
          requests.forEach((pending, index) => {
            const result = results[index] ?? [];
            this.answer(pending, () =>
              result instanceof FerryError
                ? pending.fail(result)
                : pending.complete(this.options.model, this.options.version, result),
            );
          });
        },
        (error: unknown) => {
          const failure = FerryError.from(error, "backend");
          for (const pending of requests) this.answer(pending, () => pending.fail(failure));
        },
      )
      .finally(() => {
        for (const pending of requests) this.running.delete(pending);
        this.options.pool.release(instance);
        this.dispatch();
      });
  }

  /** One execution's inputs: each input joined across the requests once. */
  private assemble(requests: PendingRequest[]): Batch {
    const first = requests[0] as PendingRequest;
    const inputs = first.request.inputs.map((input) =>
      requests.length === 1
        ? input
        : concatAlongBatch(
            requests.map((pending) => pending.request.inputs.find((i) => i.name === input.name) as Tensor),
          ),
    );
    const outputs = new Set<string>();
    for (const pending of requests) {
      for (const name of pending.request.outputs?.map((output) => output.name) ?? this.options.allOutputs)
        outputs.add(name);
    }
    return {
      inputs,
      sizes: requests.map((pending) => pending.batchSize),
      outputs: [...outputs],
      clocks: requests.map((pending) => pending.request.timing),
      requests: requests.map((pending) => batchRequest(pending.request, this.options.allOutputs)),
    };
  }

  /** Delivers an answer now, or in arrival order under preserve_ordering. */
  private answer(pending: PendingRequest, deliver: () => void): void {
    if (this.order) this.order.settle(pending, deliver);
    else deliver();
  }

  private whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queue.size === 0 && this.options.pool.busy() === 0;
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
