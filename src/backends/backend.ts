import type { ModelSignature } from "../config/signature.ts";
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
}

export interface ModelInstance {
  readonly name: string;
  readonly device: Device;
  /** Runs one batch; returns the outputs of each request, in batch order. */
  execute(batch: Batch): Promise<Tensor[][]>;
  /** Waits for a running execution, then frees the instance. Never throws. */
  close(): Promise<void>;
}

export interface Backend {
  /** Backend name as in config.pbtxt (`backend: "onnxruntime"`). */
  readonly name: string;
  /** Platform string reported in metadata (`onnxruntime_onnx`). */
  readonly platform: string;
  readonly defaultModelFilename: string;
  /** Instance count per group when config.pbtxt leaves `count` unset (CPU). */
  readonly defaultCpuInstanceCount: number;
  /** Reads the inputs and outputs a model file declares (for auto-complete and checks). */
  inspect(modelFile: string): Promise<ModelSignature>;
  load(spec: LoadSpec): Promise<ModelInstance>;
}
