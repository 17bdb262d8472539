import type { Batch } from "../backends/backend.ts";
import { FerryError } from "../core/errors.ts";
import type { InferenceObserver } from "../core/observer.ts";
import type { InferRequest, InferResponse } from "../core/request.ts";
import type { InstancePool } from "./instance-pool.ts";
import { PendingRequest } from "./pending-request.ts";
import type { Scheduler } from "./scheduler.ts";

export interface DirectSchedulerOptions {
  model: string;
  version: string;
  pool: InstancePool;
  /** Names of every output, produced when a request asks for none in particular. */
  allOutputs: string[];
  observer: InferenceObserver;
}

/**
 * Triton's default scheduler: each request executes on its own, on the next
 * free instance; when all are busy, requests wait in arrival order. A request
 * whose signal aborts while waiting leaves the queue and never executes.
 */
export class DirectScheduler implements Scheduler {
  private readonly queue: PendingRequest[] = [];
  private draining = false;

  constructor(private readonly options: DirectSchedulerOptions) {}

  enqueue(request: InferRequest, batchSize: number): Promise<InferResponse> {
    if (this.draining) {
      return Promise.reject(
        new FerryError(
          "UNAVAILABLE",
          "scheduler",
          `model '${this.options.model}' version ${this.options.version} is unloading`,
        ),
      );
    }
    const pending = new PendingRequest(request, batchSize);
    if (request.signal.aborted) {
      pending.fail(pending.cancelled());
      return pending.response;
    }
    request.timing.queued = performance.now();
    this.queue.push(pending);
    this.options.observer.queued();
    request.signal.addEventListener("abort", () => this.abandon(pending), { once: true });
    this.dispatch();
    return pending.response;
  }

  pendingCount(): number {
    return this.queue.length;
  }

  async drain(): Promise<void> {
    this.draining = true;
    while (this.queue.length > 0 || this.options.pool.busy() > 0) {
      await this.options.pool.whenIdle();
      await Promise.resolve();
    }
  }

  private abandon(pending: PendingRequest): void {
    const index = this.queue.indexOf(pending);
    if (index < 0) return;
    this.queue.splice(index, 1);
    this.options.observer.dequeued();
    pending.fail(pending.cancelled());
  }

  private dispatch(): void {
    const { pool } = this.options;
    while (this.queue.length > 0 && pool.hasFree()) {
      const pending = this.queue.shift() as PendingRequest;
      this.options.observer.dequeued();
      const instance = pool.acquire();
      if (!instance) break;
      const { request } = pending;
      const batch: Batch = {
        inputs: request.inputs,
        sizes: [pending.batchSize],
        outputs: request.outputs?.map((output) => output.name) ?? this.options.allOutputs,
        clocks: [request.timing],
      };
      request.timing.computeStart = performance.now();
      instance
        .execute(batch)
        .then(
          (results) => {
            this.options.observer.executed(pending.batchSize, batch.clocks);
            pending.complete(this.options.model, this.options.version, results[0] ?? []);
          },
          (error: unknown) => pending.fail(FerryError.from(error, "backend")),
        )
        .finally(() => {
          pool.release(instance);
          this.dispatch();
        });
    }
  }
}
