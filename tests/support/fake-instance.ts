import type { Batch, ModelInstance } from "../../src/backends/backend.ts";
import { splitAlongBatch } from "../../src/core/batch-split.ts";
import type { Tensor } from "../../src/core/tensor.ts";

/**
 * A model instance that holds each execution until the test releases it,
 * so scheduling order and concurrency can be observed exactly. Its outputs
 * echo the inputs (input i becomes output i), split back per request.
 */
export class FakeInstance implements ModelInstance {
  readonly device = "cpu" as const;
  readonly executed: Batch[] = [];
  private readonly waiting: (() => void)[] = [];
  closed = false;

  constructor(
    readonly name: string,
    private readonly autoFinish = false,
  ) {}

  execute(batch: Batch): Promise<Tensor[][]> {
    this.executed.push(batch);
    const outputs = () => {
      const perInput = batch.inputs.map((input, at) =>
        splitAlongBatch({ ...input, name: batch.outputs[at] ?? input.name }, batch.sizes),
      );
      return batch.sizes.map((_, request) => perInput.map((parts) => parts[request] as Tensor));
    };
    if (this.autoFinish) return Promise.resolve(outputs());
    return new Promise((resolve) => this.waiting.push(() => resolve(outputs())));
  }

  /** Finishes the oldest execution still running. */
  finishOne(): void {
    this.waiting.shift()?.();
  }

  /** Finishes the newest execution still running. */
  finishLast(): void {
    this.waiting.pop()?.();
  }

  running(): number {
    return this.waiting.length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Lets queued promise callbacks and zero-delay timers run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** A FakeInstance whose execution of a batch of n rows takes `msFor(n)` ms, on a timer. */
export class TimedInstance extends FakeInstance {
  constructor(
    name: string,
    private readonly msFor: (rows: number) => number,
  ) {
    super(name);
  }

  override execute(batch: Batch): Promise<Tensor[][]> {
    const result = super.execute(batch);
    const rows = batch.sizes.reduce((sum, size) => sum + size, 0);
    setTimeout(() => this.finishOne(), this.msFor(rows));
    return result;
  }
}
