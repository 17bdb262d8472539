import { FerryError } from "../core/errors.ts";
import type { InferRequest, InferResponse } from "../core/request.ts";
import type { Tensor } from "../core/tensor.ts";

/** A queued request with the promise its caller awaits. */
export class PendingRequest {
  settled = false;
  private resolveResponse!: (response: InferResponse) => void;
  private rejectResponse!: (error: FerryError) => void;
  readonly response: Promise<InferResponse>;

  constructor(
    readonly request: InferRequest,
    readonly batchSize: number,
  ) {
    this.response = new Promise((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
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
    return new FerryError(
      "CANCELLED",
      "scheduler",
      `request${this.request.id ? ` '${this.request.id}'` : ""} was cancelled before it executed`,
    );
  }
}
