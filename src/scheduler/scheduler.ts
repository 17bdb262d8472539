import type { FerryError } from "../core/errors.ts";
import type { InferRequest, InferResponse } from "../core/request.ts";
import type { BatchingReport } from "./adaptive-batcher.ts";

/** One model version's request queue in front of its instances. */
export interface Scheduler {
  /** Resolves when the request executed; rejects with a FerryError otherwise. */
  enqueue(request: InferRequest, batchSize: number): Promise<InferResponse>;
  /** Stops taking requests; resolves when queued and running ones finished. */
  drain(): Promise<void>;
  /** Requests accepted but not yet handed to an instance. */
  pendingCount(): number;
  /** Fails every queued and running request with `error` (exit timeout); running executions finish unseen. */
  abort(error: FerryError): void;
  /** A model with a latency objective: what its batcher learned (the verbose readiness view). */
  batchingReport?(): BatchingReport | undefined;
}
