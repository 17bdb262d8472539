/**
 * The types a TypeScript model is written against (`backend: "typescript"`,
 * the counterpart of Triton's Python backend). A model's `model.ts` default-
 * exports a class (one object per instance) or an object:
 *
 * @example
 * import type { ModelRequest, ModelResponse, TypeScriptModel } from "ferry/model";
 *
 * export default class Doubler implements TypeScriptModel {
 *   execute(requests: ModelRequest[]): ModelResponse[] {
 *     return requests.map((request) => {
 *       const input = request.inputs.INPUT0;
 *       return { OUTPUT0: { ...input, data: (input.data as Float32Array).map((x) => 2 * x) } };
 *     });
 *   }
 * }
 */
import type { DataType } from "../../core/datatype.ts";
import type { ErrorCode } from "../../core/errors.ts";
import type { Scalar } from "../../core/request.ts";
import type { TensorData } from "../../core/tensor.ts";

export type { DataType, ErrorCode, Scalar, TensorData };

/**
 * A tensor as model code sees it: numeric data in a typed array of its
 * datatype (FP16/BF16 as Uint16Array, INT64 as BigInt64Array), BYTES as
 * one Uint8Array per element (any bytes, NUL included).
 */
export interface ModelTensor {
  datatype: DataType;
  shape: number[];
  data: TensorData;
}

/** Tensors by name. */
export type TensorMap = Record<string, ModelTensor>;

/** What `initialize` gets: which model, version and instance this object serves. */
export interface InitializeArgs {
  modelName: string;
  modelVersion: string;
  /** The completed config, as `GET /v2/models/<m>/config` shows it. */
  config: Record<string, unknown>;
  instanceName: string;
  instanceKind: "CPU" | "GPU";
  instanceDeviceId: number;
  /** `<repository>/<model>`: labels, vocabularies and other files beside config.pbtxt. */
  modelDirectory: string;
  /** `<repository>/<model>/<version>`: where model.ts lives. */
  versionDirectory: string;
  /** The model file this instance serves (model.ts itself, for a TypeScript model). */
  modelFile: string;
}

/** One request of the batch `execute` gets. */
export interface ModelRequest {
  id: string | undefined;
  inputs: TensorMap;
  /** The outputs the client asked for (every output when it named none). */
  requestedOutputs: string[];
  parameters: Record<string, Scalar>;
  /** The sequence (correlation) id of a sequence request. */
  correlationId: bigint | string | undefined;
  sequenceStart: boolean;
  sequenceEnd: boolean;
  /** Aborted when the client goes away or the request is cancelled: the model may stop early. */
  signal: AbortSignal;
  /**
   * Decoupled models only (`model_transaction_policy { decoupled: true }`):
   * sends one response now; the last one carries `final: true` (it may hold
   * no tensors). `execute` then returns nothing for this request.
   */
  send(outputs: TensorMap, options?: { final?: boolean }): void;
}

/** The outputs of one request by name, or an Error that fails this request alone. */
export type ModelResponse = TensorMap | Error;

export interface InferOptions {
  /** A version number; the model's routes pick one when absent. */
  version?: string;
  /** Outputs to return; all of the model's when absent. */
  outputs?: string[];
  parameters?: Record<string, Scalar>;
  signal?: AbortSignal;
}

/** What model code may do besides computing: call other loaded models. */
export interface ModelContext {
  /**
   * Runs a request on another loaded model (or an ensemble) through that
   * model's own scheduler, so its batching applies; rejects with an Error
   * naming the called model.
   */
  infer(model: string, inputs: TensorMap, options?: InferOptions): Promise<TensorMap>;
}

export interface TypeScriptModel {
  /** Once per instance, before any request. Throwing fails the load. */
  initialize?(args: InitializeArgs): void | Promise<void>;
  /** One batch: one response (or Error) per request, in order. Throwing fails every request of the batch. */
  execute(
    requests: ModelRequest[],
    context: ModelContext,
  ): (ModelResponse | undefined)[] | Promise<(ModelResponse | undefined)[]>;
  /** Once per instance at unload, after the last execute. */
  finalize?(): void | Promise<void>;
}

/** The default export of model.ts when it is a class: optionally completing its own config. */
export interface TypeScriptModelClass {
  new (): TypeScriptModel;
  /** With auto-complete on: gets the config as written (JSON form) and returns it completed. */
  autoCompleteConfig?(
    config: Record<string, unknown>,
  ): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** An error with the status the client should see (INVALID_ARGUMENT → 400, INTERNAL → 500, …). */
export class ModelError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode = "INTERNAL",
  ) {
    super(message);
  }
}
