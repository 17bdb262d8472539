import { invalidArgument } from "../core/errors.ts";
import type { InferRequest, Scalar } from "../core/request.ts";

const ALLOWED_TRITON_KEYS = new Set(["triton_enable_empty_final_response"]);

/**
 * Moves the reserved request parameters of the sequence and schedule_policy
 * extensions into typed request fields, and rejects misuse of reserved keys.
 * Every adapter calls this, so HTTP and gRPC agree on what is valid.
 */
export function applyReservedParameters(request: InferRequest): void {
  const parameters = request.parameters;
  for (const key of Object.keys(parameters)) {
    if (key.startsWith("triton_") && !ALLOWED_TRITON_KEYS.has(key)) {
      throw invalidArgument(
        "protocol",
        `parameter '${key}' is reserved (keys starting with 'triton_' are not custom parameters)`,
      );
    }
    if (key === "headers") throw invalidArgument("protocol", "parameter 'headers' is reserved");
  }
  const id = parameters.sequence_id;
  const start = booleanParameter(parameters, "sequence_start");
  const end = booleanParameter(parameters, "sequence_end");
  if (id !== undefined) {
    const sequenceId = sequenceIdOf(id);
    if (isNoSequence(sequenceId) && (start || end)) {
      throw invalidArgument("protocol", "sequence_start/sequence_end need a non-zero sequence_id");
    }
    if (!isNoSequence(sequenceId))
      request.sequence = { id: sequenceId, start: start ?? false, end: end ?? false };
  } else if (start || end) {
    throw invalidArgument("protocol", "sequence_start/sequence_end need a sequence_id");
  }
  const priority = integerParameter(parameters, "priority");
  if (priority !== undefined) request.priority = priority;
  const timeout = integerParameter(parameters, "timeout");
  if (timeout !== undefined) request.timeoutUs = timeout;
}

function sequenceIdOf(value: Scalar): bigint | string {
  if (typeof value === "string") return value;
  if (typeof value === "bigint" && value >= 0n) return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw invalidArgument(
    "protocol",
    `parameter 'sequence_id' must be an unsigned integer or a string, got ${String(value)}`,
  );
}

function isNoSequence(id: bigint | string): boolean {
  return id === 0n || id === "";
}

function booleanParameter(parameters: Record<string, Scalar>, key: string): boolean | undefined {
  const value = parameters[key];
  if (value === undefined || typeof value === "boolean") return value;
  throw invalidArgument("protocol", `parameter '${key}' must be a boolean, got ${typeof value}`);
}

function integerParameter(parameters: Record<string, Scalar>, key: string): number | undefined {
  const value = parameters[key];
  if (value === undefined) return undefined;
  const number = typeof value === "bigint" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) {
    throw invalidArgument(
      "protocol",
      `parameter '${key}' must be a non-negative integer, got ${String(value)}`,
    );
  }
  return number;
}
