import type { IoSignature, ModelSignature } from "../../config/signature.ts";
import { FerryError } from "../../core/errors.ts";
import type { ModelConfig } from "../../gen/model_config_pb.ts";
import type { Backend, LoadSpec, ModelInstance } from "../backend.ts";
import { WorkerInstance } from "../worker/worker-instance.ts";
import { workerSpecFor } from "../worker/worker-spec.ts";
import { OnnxInstance } from "./onnx-instance.ts";
import { ort } from "./ort-runtime.ts";
import { dataTypeOfOrt } from "./ort-tensors.ts";
import { sessionOptionsFor } from "./session-options.ts";

type Log = (message: string) => void;

/**
 * Where an instance's session runs: in a worker of its own (the event loop
 * stays free while it computes; instances run in parallel) or on the event
 * loop (no hop; every run blocks the server for its duration).
 */
export type OnnxExecution = "worker" | "event-loop";

const WORKER_MODEL = new URL("./onnx-worker-model.ts", import.meta.url).pathname;
/** ONNX runs and loads have no deadline of their own in Triton; a worker's is generous (execute_timeout_ms overrides). */
const WORKER_TIMEOUT_MS = 600_000;

/** `parameters { key: "ferry.execution" value { string_value: "worker" | "event_loop" } }`. */
function executionOf(config: ModelConfig): OnnxExecution | undefined {
  const text = config.parameters["ferry.execution"]?.stringValue;
  if (text === undefined) return undefined;
  if (text === "worker") return "worker";
  if (text === "event_loop" || text === "event-loop") return "event-loop";
  throw new FerryError(
    "INVALID_ARGUMENT",
    "config",
    `parameters['ferry.execution'] must be "worker" or "event_loop", got '${text}'`,
  );
}

/** ONNX Runtime through onnxruntime-node: one InferenceSession per instance. */
export class OnnxBackend implements Backend {
  readonly name = "onnxruntime";
  readonly platform = "onnxruntime_onnx";
  readonly defaultModelFilename = "model.onnx";
  readonly defaultCpuInstanceCount = 2;

  /**
   * `verbose`: let onnxruntime print its own warnings; otherwise it prints
   * only fatal errors, since ferry reports every failure itself.
   */
  constructor(
    private readonly warn: Log = (message) => console.warn(message),
    private readonly verbose = false,
    /** Where sessions run unless a model's `ferry.execution` parameter says otherwise. */
    private readonly execution: OnnxExecution = "worker",
  ) {}

  private get logSeverityLevel(): 2 | 4 {
    return this.verbose ? 2 : 4;
  }

  async inspect(modelFile: string): Promise<ModelSignature> {
    // Graph optimisation off: only the declared inputs and outputs are read.
    const session = await this.createSession(modelFile, {
      graphOptimizationLevel: "disabled",
      logSeverityLevel: this.logSeverityLevel,
    });
    try {
      return {
        inputs: session.inputMetadata.map(toSignature),
        outputs: session.outputMetadata.map(toSignature),
      };
    } finally {
      await session.release().catch((error: unknown) => this.warn(`onnxruntime: release failed: ${error}`));
    }
  }

  async load(spec: LoadSpec): Promise<ModelInstance> {
    if ((executionOf(spec.config) ?? this.execution) === "worker") {
      return WorkerInstance.start({
        ...workerSpecFor(
          spec,
          WORKER_MODEL,
          { executeMs: WORKER_TIMEOUT_MS, initializeMs: WORKER_TIMEOUT_MS },
          this.warn,
        ),
        // The runner reports onnxruntime's own failures, already naming the instance.
        describeFailure: (_, message) => message,
        outputs: undefined,
      });
    }
    const session = await this.createSession(
      spec.modelFile,
      sessionOptionsFor(spec.config, spec.device, this.logSeverityLevel),
    );
    return new OnnxInstance(spec.instanceName, spec.device, session, (error) =>
      this.warn(`onnxruntime: releasing ${spec.instanceName} failed: ${error}`),
    );
  }

  private async createSession(
    modelFile: string,
    options: ort.InferenceSession.SessionOptions,
  ): Promise<ort.InferenceSession> {
    try {
      return await ort.InferenceSession.create(modelFile, options);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new FerryError("INVALID_ARGUMENT", "backend", `onnxruntime cannot load ${modelFile}: ${reason}`, {
        cause: error,
      });
    }
  }
}

function toSignature(meta: ort.InferenceSession.ValueMetadata): IoSignature {
  if (!meta.isTensor)
    return { name: meta.name, datatype: undefined, shape: undefined, frameworkType: "non-tensor" };
  return {
    name: meta.name,
    datatype: dataTypeOfOrt(meta.type),
    // Symbolic and unknown dims are dynamic (-1).
    shape: meta.shape.map((dim) => (typeof dim === "number" && dim >= 0 ? dim : -1)),
    frameworkType: meta.type,
  };
}
