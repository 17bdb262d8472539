/**
 * The one error type that crosses module boundaries. `code` mirrors gRPC's
 * closed set of status codes; each protocol adapter maps it to its own wire
 * status in one table. `layer` names the module that owns the failure so a
 * client reads "backend: input 'x' expects FP32, got INT64" and knows where to look.
 */
export type ErrorCode =
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "RESOURCE_EXHAUSTED"
  | "FAILED_PRECONDITION"
  | "UNIMPLEMENTED"
  | "UNAVAILABLE"
  | "CANCELLED"
  | "DEADLINE_EXCEEDED"
  | "INTERNAL";

export type Layer = "protocol" | "config" | "repository" | "scheduler" | "backend" | "health";

export class FerryError extends Error {
  override readonly name = "FerryError";

  constructor(
    readonly code: ErrorCode,
    readonly layer: Layer,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${layer}: ${detail}`, options);
  }

  /** Turns anything thrown into a FerryError, keeping FerryErrors as they are. */
  static from(error: unknown, layer: Layer, code: ErrorCode = "INTERNAL"): FerryError {
    if (error instanceof FerryError) return error;
    if (error instanceof Error && error.name === "AbortError") {
      return new FerryError("CANCELLED", layer, "request cancelled", { cause: error });
    }
    const text = error instanceof Error ? error.message : String(error);
    return new FerryError(code, layer, text, { cause: error });
  }
}

/** Shorthand for the most common failure: the client sent something wrong. */
export function invalidArgument(layer: Layer, detail: string): FerryError {
  return new FerryError("INVALID_ARGUMENT", layer, detail);
}
