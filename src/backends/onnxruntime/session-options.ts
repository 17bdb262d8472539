import { FerryError } from "../../core/errors.ts";
import type { ModelConfig } from "../../gen/model_config_pb.ts";
import type { Device } from "../backend.ts";
import type { ort } from "./ort-runtime.ts";

/**
 * Session options from config.pbtxt, using the keys of Triton's onnxruntime
 * backend where they exist: `optimization.graph.level` (-1 basic, 1 extended,
 * otherwise all) and the `parameters` intra_op_thread_count,
 * inter_op_thread_count and execution_mode (0 sequential, 1 parallel).
 */
export function sessionOptionsFor(
  config: ModelConfig,
  device: Device,
  logSeverityLevel: 0 | 1 | 2 | 3 | 4,
): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    logSeverityLevel,
    graphOptimizationLevel: graphLevel(config.optimization?.graph?.level ?? 0),
    executionProviders: [device === "cpu" ? "cpu" : { name: "cuda", deviceId: Number(device.slice(4)) }],
  };
  const intra = integerParameter(config, "intra_op_thread_count");
  if (intra !== undefined) options.intraOpNumThreads = intra;
  const inter = integerParameter(config, "inter_op_thread_count");
  if (inter !== undefined) options.interOpNumThreads = inter;
  const mode = integerParameter(config, "execution_mode");
  if (mode !== undefined) options.executionMode = mode === 1 ? "parallel" : "sequential";
  return options;
}

function graphLevel(level: number): ort.InferenceSession.SessionOptions["graphOptimizationLevel"] {
  if (level === -1) return "basic";
  if (level === 1) return "extended";
  return "all";
}

function integerParameter(config: ModelConfig, key: string): number | undefined {
  const text = config.parameters[key]?.stringValue;
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new FerryError(
      "INVALID_ARGUMENT",
      "config",
      `parameters['${key}'] must be a non-negative integer, got '${text}'`,
    );
  }
  return value;
}
