import { splitAlongBatch } from "../../core/batch-split.ts";
import { ComputationError, FerryError } from "../../core/errors.ts";
import { StageClock } from "../../core/stage-clock.ts";
import type { Tensor } from "../../core/tensor.ts";
import type { Batch, Device, ModelInstance } from "../backend.ts";
import type { ort } from "./ort-runtime.ts";
import { fromOrtTensor, toOrtTensor } from "./ort-tensors.ts";

/**
 * One ONNX Runtime session = one instance of an instance group. Executions
 * never overlap (the scheduler gives an instance one batch at a time) and
 * close() waits for the running one before releasing the native session:
 * releasing under a running `run` is what crashes N-API addons.
 */
export class OnnxInstance implements ModelInstance {
  private running: Promise<unknown> = Promise.resolve();
  private closed: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly device: Device,
    private readonly session: ort.InferenceSession,
    private readonly onReleaseError: (error: unknown) => void,
  ) {}

  execute(batch: Batch): Promise<Tensor[][]> {
    if (this.closed)
      return Promise.reject(new FerryError("UNAVAILABLE", "backend", `instance ${this.name} is closed`));
    const run = this.run(batch);
    this.running = run.catch(() => undefined);
    return run;
  }

  private async run(batch: Batch): Promise<Tensor[][]> {
    const computeStart = performance.now();
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of batch.inputs) feeds[input.name] = toOrtTensor(input);

    const inferStart = performance.now();
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds, batch.outputs);
    } catch (error) {
      throw new ComputationError(
        "INTERNAL",
        "backend",
        `onnxruntime failed in ${this.name}: ${describe(error)}`,
        { cause: error },
      );
    } finally {
      for (const feed of Object.values(feeds)) feed.dispose();
    }
    const outputStart = performance.now();
    const perRequest: Tensor[][] = batch.sizes.map(() => []);
    for (const name of batch.outputs) {
      const value = results[name];
      if (!value) throw new FerryError("INTERNAL", "backend", `onnxruntime returned no output '${name}'`);
      const parts = splitAlongBatch(fromOrtTensor(name, value), batch.sizes);
      parts.forEach((part, index) => {
        perRequest[index]?.push(part);
      });
    }
    StageClock.stampExecution(batch.clocks, {
      computeStart,
      inferStart,
      outputStart,
      computeEnd: performance.now(),
    });
    return perRequest;
  }

  close(): Promise<void> {
    this.closed ??= this.running.then(async () => {
      try {
        await this.session.release();
      } catch (error) {
        this.onReleaseError(error);
      }
    });
    return this.closed;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
