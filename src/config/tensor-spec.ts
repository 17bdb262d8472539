import type { DataType } from "../core/datatype.ts";
import type { ModelConfig, ModelInput, ModelOutput } from "../gen/model_config_pb.ts";
import { wireDataType } from "./datatypes.ts";

/** An input or output of a validated config, in the units the request path uses. */
export interface TensorSpec {
  name: string;
  datatype: DataType;
  /** Dims without the batch dimension; -1 = any size. */
  dims: number[];
  /** Shape the backend sees instead of `dims` (config `reshape`), without batch dim. */
  reshape: number[] | undefined;
  optional: boolean;
  /** Output label file name (classification), relative to the model directory. */
  labelFilename: string | undefined;
}

export function inputSpecs(config: ModelConfig): TensorSpec[] {
  return config.input.map(toSpec);
}

export function outputSpecs(config: ModelConfig): TensorSpec[] {
  return config.output.map(toSpec);
}

function toSpec(tensor: ModelInput | ModelOutput): TensorSpec {
  return {
    name: tensor.name,
    datatype: wireDataType(tensor.dataType) ?? "BYTES",
    dims: tensor.dims.map(Number),
    reshape: tensor.reshape ? tensor.reshape.shape.map(Number) : undefined,
    optional: "optional" in tensor ? tensor.optional : false,
    labelFilename: "labelFilename" in tensor && tensor.labelFilename ? tensor.labelFilename : undefined,
  };
}

/** The shape clients see: `[-1] + dims` for a batching model, `dims` otherwise. */
export function clientShape(spec: TensorSpec, maxBatchSize: number): number[] {
  return maxBatchSize > 0 ? [-1, ...spec.dims] : [...spec.dims];
}
