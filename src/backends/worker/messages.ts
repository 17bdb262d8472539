import type { ErrorCode } from "../../core/errors.ts";
import type { Scalar } from "../../core/request.ts";
import type { Tensor } from "../../core/tensor.ts";
import type { InitializeArgs } from "../typescript/model-api.ts";

/** An error crossing the worker boundary. */
export interface WireError {
  message: string;
  code?: ErrorCode;
}

export interface WireRequest {
  id: string | undefined;
  inputs: Tensor[];
  requestedOutputs: string[];
  parameters: Record<string, Scalar>;
  correlationId: bigint | string | undefined;
  sequenceStart: boolean;
  sequenceEnd: boolean;
}

/** What the server sends a model's worker. */
export type ToWorker =
  | { type: "init"; modelFile: string; args: InitializeArgs; decoupled: boolean }
  | { type: "autocomplete"; modelFile: string; config: Record<string, unknown> }
  | { type: "execute"; id: number; requests: WireRequest[] }
  | { type: "cancel"; id: number; index: number }
  | { type: "infer-result"; call: number; outputs?: Tensor[]; error?: WireError }
  | { type: "finalize" };

/** What a model's worker sends the server. */
export type FromWorker =
  | { type: "ready" }
  | { type: "failed"; error: WireError }
  | { type: "autocompleted"; config: Record<string, unknown> }
  | { type: "executed"; id: number; results: (Tensor[] | WireError | null)[] }
  | { type: "execute-failed"; id: number; error: WireError }
  | { type: "sent"; id: number; index: number; outputs: Tensor[]; final: boolean }
  | {
      type: "infer";
      call: number;
      model: string;
      version?: string;
      inputs: Tensor[];
      outputs?: string[];
      parameters?: Record<string, Scalar>;
    }
  | { type: "cancel-infer"; call: number }
  | { type: "finalized" };

/**
 * The buffers of tensors, each once, for a postMessage transfer list: the
 * sender gives them up, the receiver gets them without a copy.
 */
export function buffersOf(tensors: Iterable<Tensor>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const tensor of tensors) {
    const parts = Array.isArray(tensor.data) ? tensor.data : [tensor.data];
    for (const part of parts) {
      if (part.buffer instanceof ArrayBuffer && part.buffer.byteLength > 0) buffers.add(part.buffer);
    }
  }
  return [...buffers];
}

export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && ERROR_CODES.has(code as ErrorCode)
      ? { message: error.message, code: code as ErrorCode }
      : { message: error.message };
  }
  return { message: String(error) };
}

const ERROR_CODES = new Set<ErrorCode>([
  "INVALID_ARGUMENT",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "UNIMPLEMENTED",
  "UNAVAILABLE",
  "CANCELLED",
  "DEADLINE_EXCEEDED",
  "INTERNAL",
]);
