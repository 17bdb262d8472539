import { FerryError } from "../core/errors.ts";
import type { InferRequest, InferResponse } from "../core/request.ts";
import type { Tensor } from "../core/tensor.ts";

/** A queued request with the promise its caller awaits. */
export class PendingRequest {
  settled = false;
  /** Queue level (1-based) while queued. */
  level: number | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Arrival order, for preserve_ordering. */
  readonly arrival: number;
  private resolveResponse!: (response: InferResponse) => void;
  private rejectResponse!: (error: FerryError) => void;
  readonly response: Promise<InferResponse>;
  private static arrivals = 0;

  constructor(
    readonly request: InferRequest,
    readonly batchSize: number,
  ) {
    this.arrival = PendingRequest.arrivals++;
    this.response = new Promise((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
  }

  private cachedShapeKey: string | undefined;

  /** Requests with equal keys have the same inputs with the same non-batch shapes, so they can share a batch. */
  get shapeKey(): string {
    this.cachedShapeKey ??= this.request.inputs
      .map((input) => `${input.name}:${input.shape.slice(1).join(",")}`)
      .sort()
      .join("|");
    return this.cachedShapeKey;
  }

  /** When the request entered the queue (ms, performance.now()). */
  get queuedAt(): number {
    return this.request.timing.queued;
  }

  complete(model: string, version: string, outputs: Tensor[]): void {
    if (this.settled) return;
    this.settled = true;
    const response: InferResponse = { model, version, outputs };
    if (this.request.id) response.id = this.request.id;
    this.resolveResponse(response);
  }

  fail(error: FerryError): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectResponse(error);
  }

  cancelled(): FerryError {
    const id = this.request.id ? ` '${this.request.id}'` : "";
    return new FerryError("CANCELLED", "scheduler", `request${id} was cancelled before it executed`);
  }
}
