import type { ModelDependency } from "../config/dependencies.ts";
import type { ModelSignature } from "../config/signature.ts";
import type { FerryError } from "../core/errors.ts";
import type { InferRequest, InferResponse } from "../core/request.ts";
import type { StageClock } from "../core/stage-clock.ts";
import type { Tensor } from "../core/tensor.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";

export type Device = "cpu" | `gpu:${number}`;

/** What a backend needs to create one instance of one model version. */
export interface LoadSpec {
  model: string;
  version: string;
  /** The completed, validated configuration. */
  config: ModelConfig;
  /** Local directory of the version (`<model>/<version>`). */
  versionDir: string;
  /** Absolute path of the model file inside versionDir. */
  modelFile: string;
  instanceName: string;
  device: Device;
  /** How model code reaches other models (TypeScript models' `context.infer`). */
  caller?: ModelCaller;
  /** The models it may call and at which version (a promoted pipeline's pins); default: its config's ferry.calls. */
  calls?: ModelDependency[];
}

/**
 * Runs a request on another loaded model through its scheduler. Backends
 * get one (the serving layer's router) and know nothing else of other models.
 */
export interface ModelCaller {
  infer(request: InferRequest): Promise<InferResponse>;
}

/**
 * One execution of a model instance: inputs already joined along the batch
 * dimension, with the size each request contributed, in order.
 */
export interface Batch {
  inputs: Tensor[];
  /** Batch size of each request (all 1 entry of size 1 for a non-batching model). */
  sizes: number[];
  /** Outputs the requests of this batch need. */
  outputs: string[];
  /** One per request; the instance stamps the compute stages on them. */
  clocks: StageClock[];
  /**
   * Per request, what model code may read besides tensors; absent for
   * backends that only compute (and for warm-up). Undefined entries are
   * padding rows (sequence batcher slots without a request).
   */
  requests?: (BatchRequest | undefined)[];
}

export interface BatchRequest {
  id: string | undefined;
  parameters: InferRequest["parameters"];
  sequence: InferRequest["sequence"];
  signal: AbortSignal;
  /** Requested output names (all outputs when the client named none). */
  outputs: string[];
  /** Decoupled models: each response as the model sends it (the final one flagged). */
  onResponse?: (outputs: Tensor[], final: boolean) => void;
}

/** One request's result from an execution: its outputs, or the error that failed it alone. */
export type RequestResult = Tensor[] | FerryError;

export interface ModelInstance {
  readonly name: string;
  readonly device: Device;
  /** Runs one batch; returns each request's outputs (or its own error), in batch order. */
  execute(batch: Batch): Promise<RequestResult[]>;
  /** Waits for a running execution, then frees the instance. Never throws. */
  close(): Promise<void>;
}

export interface Backend {
  /** Backend name as in config.pbtxt (`backend: "onnxruntime"`). */
  readonly name: string;
  /** Platform string reported in metadata (`onnxruntime_onnx`). */
  readonly platform: string;
  readonly defaultModelFilename: string;
  /** The model file among a version directory's files when config.pbtxt names none (default: defaultModelFilename). */
  modelFilenameIn?(files: readonly string[]): string;
  /** Instance count per group when config.pbtxt leaves `count` unset (CPU). */
  readonly defaultCpuInstanceCount: number;
  /**
   * Reads the inputs and outputs a model file declares (for auto-complete
   * and checks); undefined when the file is code that declares none.
   */
  inspect(modelFile: string): Promise<ModelSignature | undefined>;
  /** With auto-complete on: lets the model complete its own config (a TS model's static autoCompleteConfig). */
  autoCompleteConfig?(config: ModelConfig, modelFile: string): Promise<ModelConfig>;
  load(spec: LoadSpec): Promise<ModelInstance>;
}
