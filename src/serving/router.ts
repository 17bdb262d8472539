import type { InferRequest, InferResponse } from "../core/request.ts";
import type { ModelVersion } from "./model-version.ts";

/**
 * How ensembles and TypeScript models reach other models: pick the version
 * a request goes to (the one it names, else the routes' pick, canaries
 * included) and run it through that version's scheduler, so its batching,
 * instances and queue policies apply. Implemented over the model manager's
 * table and handed down: serving code never imports repository/.
 */
export interface Router {
  /** The serving version for `model` (and `version`, when given); NOT_FOUND / UNAVAILABLE errors when none. */
  resolve(model: string, version?: string): ModelVersion;
  /** Resolves the request's version and runs the request on it. */
  infer(request: InferRequest): Promise<InferResponse>;
}
