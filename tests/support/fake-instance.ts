import type { Batch, ModelInstance } from "../../src/backends/backend.ts";
import type { Tensor } from "../../src/core/tensor.ts";

/**
 * A model instance that holds each execution until the test releases it,
 * so scheduling order and concurrency can be observed exactly. Outputs
 * echo the inputs under the requested output names.
 */
export class FakeInstance implements ModelInstance {
  readonly device = "cpu" as const;
  readonly executed: Batch[] = [];
  private readonly waiting: (() => void)[] = [];
  closed = false;

  constructor(readonly name: string) {}

  execute(batch: Batch): Promise<Tensor[][]> {
    this.executed.push(batch);
    return new Promise((resolve) => {
      this.waiting.push(() =>
        resolve(
          batch.sizes.map(() =>
            batch.inputs.map((input, at) => ({ ...input, name: batch.outputs[at] ?? input.name })),
          ),
        ),
      );
    });
  }

  /** Finishes the oldest execution still running. */
  finishOne(): void {
    this.waiting.shift()?.();
  }

  running(): number {
    return this.waiting.length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Lets queued promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
}
