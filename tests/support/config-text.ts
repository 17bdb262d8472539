import { fillDefaults } from "../../src/config/defaults.ts";
import { readConfigText } from "../../src/config/read-config.ts";
import type { ModelConfig } from "../../src/gen/model_config_pb.ts";

/** What config completion needs of the ONNX Runtime backend. */
export const ONNX_BACKEND = {
  name: "onnxruntime",
  platform: "onnxruntime_onnx",
  defaultModelFilename: "model.onnx",
  defaultCpuInstanceCount: 2,
};

/** One FP32 [4] input `a` and output `b`, as config.pbtxt text. */
export const FP32_TENSORS = `input [{ name: "a" data_type: TYPE_FP32 dims: [4] }] output [{ name: "b" data_type: TYPE_FP32 dims: [4] }]`;

/** Model `m`'s config.pbtxt text, parsed and completed with the ONNX backend's defaults. */
export function completedConfig(text: string, name = "m"): ModelConfig {
  const config = readConfigText(text, "m/config.pbtxt");
  fillDefaults(config, name, ONNX_BACKEND, []);
  return config;
}
