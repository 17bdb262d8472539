import { availableParallelism } from "node:os";
import { FerryError } from "../../core/errors.ts";
import { type ModelConfig, ModelInstanceGroup_Kind } from "../../gen/model_config_pb.ts";
import type { Device } from "../backend.ts";
import type { ort } from "./ort-runtime.ts";

/**
 * Session options from config.pbtxt, using the keys of Triton's onnxruntime
 * backend where they exist: `optimization.graph.level` (-1 basic, 1 extended,
 * otherwise all) and the `parameters` intra_op_thread_count,
 * inter_op_thread_count and execution_mode (0 sequential, 1 parallel), plus
 * onnxruntime session config entries as "session.*" parameters. Without
 * intra_op_thread_count, the count fits the host (see defaultIntraOpThreads).
 */
export function sessionOptionsFor(
  config: ModelConfig,
  device: Device,
  logSeverityLevel: 0 | 1 | 2 | 3 | 4,
  cores = availableParallelism(),
): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    logSeverityLevel,
    graphOptimizationLevel: graphLevel(config.optimization?.graph?.level ?? 0),
    executionProviders: [device === "cpu" ? "cpu" : { name: "cuda", deviceId: Number(device.slice(4)) }],
  };
  const intra = integerParameter(config, "intra_op_thread_count");
  options.intraOpNumThreads = intra ?? defaultIntraOpThreads(config, cores);
  const inter = integerParameter(config, "inter_op_thread_count");
  if (inter !== undefined) options.interOpNumThreads = inter;
  const mode = integerParameter(config, "execution_mode");
  if (mode !== undefined) options.executionMode = mode === 1 ? "parallel" : "sequential";
  options.extra = sessionConfigEntries(config);
  return options;
}

/**
 * onnxruntime sizes each session's pool to all the cores, as if it were
 * alone; ferry shares the host's cores among the model's CPU instances, so
 * instances running at once do not oversubscribe them — but never fewer than
 * two threads: without a pool (one thread) onnxruntime computed the bench
 * MLP's batch-1 run 3× slower on a 2-core host (bench/README.md).
 */
export function defaultIntraOpThreads(config: ModelConfig, cores: number): number {
  const instances = config.instanceGroup
    .filter((group) => group.kind !== ModelInstanceGroup_Kind.GPU)
    .reduce((sum, group) => sum + Math.max(1, group.count), 0);
  return Math.min(cores, Math.max(2, Math.floor(cores / Math.max(1, instances))));
}

/**
 * Thread pools that spin after each run take CPU the event loop needs on a
 * small host, so ferry turns spinning off unless the config asks for it.
 */
const DEFAULT_SESSION_ENTRIES: Record<string, string> = {
  "session.intra_op.allow_spinning": "0",
  "session.inter_op.allow_spinning": "0",
};

/**
 * `parameters` keys starting with "session." are onnxruntime session config
 * entries, passed through as they are (e.g. "session.intra_op.allow_spinning"),
 * over ferry's defaults.
 */
function sessionConfigEntries(config: ModelConfig): Record<string, unknown> {
  const entries = { ...DEFAULT_SESSION_ENTRIES };
  for (const [key, parameter] of Object.entries(config.parameters)) {
    if (key.startsWith("session.")) entries[key] = parameter.stringValue;
  }
  const nested: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) {
    const path = key.split(".");
    let node = nested;
    for (const part of path.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[path.at(-1) as string] = value;
  }
  return nested;
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
