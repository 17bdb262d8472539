import type { IoSignature, ModelSignature } from "../../config/signature.ts";
import { FerryError } from "../../core/errors.ts";
import type { ModelConfig } from "../../gen/model_config_pb.ts";
import { fileSize } from "../../runtime/files.ts";
import type { Backend, LoadSpec, ModelInstance } from "../backend.ts";
import { WorkerInstance } from "../worker/worker-instance.ts";
import { workerSpecFor } from "../worker/worker-spec.ts";
import { largestBatchOfZeros, timeExecution } from "./execution-probe.ts";
import { OnnxInstance } from "./onnx-instance.ts";
import { ort } from "./ort-runtime.ts";
import { dataTypeOfOrt } from "./ort-tensors.ts";
import { sessionOptionsFor } from "./session-options.ts";

type Log = (message: string) => void;

/**
 * Where an instance's session runs: in a worker of its own (the event loop
 * stays free while it computes; instances run in parallel), on the event
 * loop (no hop; every run blocks the server for its duration), or `auto`:
 * the event loop when the largest batch it can be given was measured to
 * compute within AUTO_EVENT_LOOP_MAX_MS, a worker otherwise.
 */
export type OnnxExecution = "auto" | "worker" | "event-loop";

/**
 * The longest execution `auto` lets block the event loop: far below a
 * liveness probe's timeout, and where the worker hop (~0.1 ms) is no
 * longer small next to the run (bench/README.md, bench:execution).
 */
export const AUTO_EVENT_LOOP_MAX_MS = 10;
/** Model files above this stay in workers under `auto`: creating their session would block the event loop too long. */
const AUTO_EVENT_LOOP_MAX_FILE_BYTES = 64 * 1024 * 1024;

const WORKER_MODEL = new URL("./onnx-worker-model.ts", import.meta.url).pathname;
/** ONNX runs and loads have no deadline of their own in Triton; a worker's is generous (execute_timeout_ms overrides). */
const WORKER_TIMEOUT_MS = 600_000;

/** `parameters { key: "ferry.execution" value { string_value: "auto" | "worker" | "event_loop" } }`. */
function executionOf(config: ModelConfig): OnnxExecution | undefined {
  const text = config.parameters["ferry.execution"]?.stringValue;
  if (text === undefined) return undefined;
  if (text === "worker" || text === "auto") return text;
  if (text === "event_loop" || text === "event-loop") return "event-loop";
  throw new FerryError(
    "INVALID_ARGUMENT",
    "config",
    `parameters['ferry.execution'] must be "auto", "worker" or "event_loop", got '${text}'`,
  );
}

/** ONNX Runtime through onnxruntime-node: one InferenceSession per instance. */
export class OnnxBackend implements Backend {
  readonly name = "onnxruntime";
  readonly platform = "onnxruntime_onnx";
  readonly defaultModelFilename = "model.onnx";
  readonly defaultCpuInstanceCount = 2;

  private readonly warn: Log;
  private readonly info: Log;
  private readonly verbose: boolean;
  private readonly execution: OnnxExecution;
  private readonly autoEventLoopMaxMs: number;

  constructor(
    options: {
      warn?: Log;
      info?: Log;
      /** Let onnxruntime print its own warnings; otherwise only fatal errors, since ferry reports every failure itself. */
      verbose?: boolean;
      /** Where sessions run unless a model's `ferry.execution` parameter says otherwise. */
      execution?: OnnxExecution;
      /** `auto`'s bound (AUTO_EVENT_LOOP_MAX_MS). */
      autoEventLoopMaxMs?: number;
    } = {},
  ) {
    this.warn = options.warn ?? ((message) => console.warn(message));
    this.info = options.info ?? (() => {});
    this.verbose = options.verbose ?? false;
    this.execution = options.execution ?? "auto";
    this.autoEventLoopMaxMs = options.autoEventLoopMaxMs ?? AUTO_EVENT_LOOP_MAX_MS;
  }

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
    const execution = executionOf(spec.config) ?? this.execution;
    if (execution === "event-loop") return this.eventLoopInstance(spec);
    const worker = await this.workerInstance(spec);
    return execution === "auto" ? this.placeByProbe(spec, worker) : worker;
  }

  /**
   * `auto`: times the largest batch the instance can be given, in its
   * worker (a slow model never blocks the event loop, not even here), and
   * moves a fast one to the event loop, where it skips the hop.
   */
  private async placeByProbe(spec: LoadSpec, worker: ModelInstance): Promise<ModelInstance> {
    const batch = largestBatchOfZeros(spec.config);
    const size = fileSize(spec.modelFile);
    if (!batch || size > AUTO_EVENT_LOOP_MAX_FILE_BYTES) return worker;
    const ms = await timeExecution(worker, batch, this.autoEventLoopMaxMs);
    if (ms === undefined || ms > this.autoEventLoopMaxMs) {
      if (ms !== undefined)
        this.info(`${spec.instanceName}: in a worker (batch of ${batch.sizes[0]} took ${ms.toFixed(1)} ms)`);
      return worker;
    }
    const instance = await this.eventLoopInstance(spec);
    await worker.close();
    this.info(
      `${spec.instanceName}: on the event loop (batch of ${batch.sizes[0]} took ${ms.toFixed(1)} ms)`,
    );
    return instance;
  }

  private workerInstance(spec: LoadSpec): Promise<ModelInstance> {
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

  private async eventLoopInstance(spec: LoadSpec): Promise<ModelInstance> {
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
