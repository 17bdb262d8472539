import { dirname } from "node:path";
import { configToJson } from "../../config/json.ts";
import { outputSpecs } from "../../config/tensor-spec.ts";
import { FerryError } from "../../core/errors.ts";
import type { ModelConfig } from "../../gen/model_config_pb.ts";
import type { LoadSpec } from "../backend.ts";
import type { WorkerInstanceSpec } from "./worker-instance.ts";

/** The instance's part of a worker spec, from the backend's load spec: who it is, where, its limits. */
export function workerSpecFor(
  spec: LoadSpec,
  modelFile: string,
  timeouts: { executeMs: number; initializeMs: number },
  log: (message: string) => void,
): WorkerInstanceSpec {
  const { config } = spec;
  return {
    model: spec.model,
    instanceName: spec.instanceName,
    device: spec.device,
    modelFile,
    args: {
      modelName: spec.model,
      modelVersion: spec.version,
      config: configToJson(config),
      instanceName: spec.instanceName,
      // Where it really runs (a KIND_GPU group under --gpu-fallback=cpu runs on the CPU).
      instanceKind: spec.device.startsWith("gpu:") ? "GPU" : "CPU",
      instanceDeviceId: spec.device.startsWith("gpu:") ? Number(spec.device.slice(4)) : 0,
      modelDirectory: dirname(spec.versionDir),
      versionDirectory: spec.versionDir,
      modelFile: spec.modelFile,
    },
    outputs: outputSpecs(config),
    decoupled: config.modelTransactionPolicy?.decoupled === true,
    executeTimeoutMs: timeoutParameter(config, "execute_timeout_ms", timeouts.executeMs),
    initializeTimeoutMs: timeoutParameter(config, "initialize_timeout_ms", timeouts.initializeMs),
    caller: undefined,
    calls: undefined,
    log,
  };
}

function timeoutParameter(config: ModelConfig, key: string, fallback: number): number {
  const text = config.parameters[key]?.stringValue;
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new FerryError(
      "INVALID_ARGUMENT",
      "config",
      `parameters['${key}'] must be a positive number of milliseconds, got '${text}'`,
    );
  }
  return value;
}
