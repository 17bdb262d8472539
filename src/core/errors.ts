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
  /** The message without its layer, with over-long names cut (see `bounded`). */
  readonly detail: string;

  constructor(
    readonly code: ErrorCode,
    readonly layer: Layer,
    detail: string,
    options?: { cause?: unknown },
  ) {
    const shown = bounded(detail);
    super(`${layer}: ${shown}`, options);
    this.detail = shown;
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

const LONGEST_NAME = 128;
const LONGEST_DETAIL = 2048;

/**
 * Errors echo what the client sent ('names' in quotes); a 100 KB model name
 * must not come back as a 100 KB message (a gRPC status travels in a
 * header). Quoted names over 128 characters are cut to their first 64,
 * and the whole detail to 2 KB, saying how long the original was.
 */
function bounded(detail: string): string {
  const names = detail.replace(
    new RegExp(`'([^']{${LONGEST_NAME + 1},})'`, "g"),
    (_, name: string) => `'${name.slice(0, 64)}…' (${name.length} characters)`,
  );
  if (names.length <= LONGEST_DETAIL) return names;
  return `${names.slice(0, LONGEST_DETAIL)}… (${names.length} characters in all)`;
}

/**
 * The model's own computation failed on the inputs it was given (an
 * operator raised, model code threw), as opposed to an instance that could
 * not run at all. Readiness checks on invented inputs report it as a
 * warning: the same model may well serve real inputs correctly.
 */
export class ComputationError extends FerryError {}

/** Shorthand for the most common failure: the client sent something wrong. */
export function invalidArgument(layer: Layer, detail: string): FerryError {
  return new FerryError("INVALID_ARGUMENT", layer, detail);
}
