import type { ModelInstance } from "../backends/backend.ts";

/**
 * The free/busy bookkeeping of an instance group: each instance executes
 * one batch at a time; `acquire` hands out the longest-idle free instance
 * so work spreads over all of them.
 */
export class InstancePool {
  private readonly free: ModelInstance[];
  private busyCount = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(readonly instances: readonly ModelInstance[]) {
    this.free = [...instances];
  }

  hasFree(): boolean {
    return this.free.length > 0;
  }

  freeCount(): number {
    return this.free.length;
  }

  /** The instance `acquire` would hand out next. */
  nextFree(): ModelInstance | undefined {
    return this.free[0];
  }

  acquire(): ModelInstance | undefined {
    const instance = this.free.shift();
    if (instance) this.busyCount++;
    return instance;
  }

  release(instance: ModelInstance): void {
    this.busyCount--;
    this.free.push(instance);
    if (this.busyCount === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  busy(): number {
    return this.busyCount;
  }

  /** Resolves once no instance is executing. */
  whenIdle(): Promise<void> {
    if (this.busyCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
