import type { IoSignature, ModelSignature } from "../../config/signature.ts";
import { FerryError } from "../../core/errors.ts";
import type { Backend, LoadSpec, ModelInstance } from "../backend.ts";
import { OnnxInstance } from "./onnx-instance.ts";
import { ort } from "./ort-runtime.ts";
import { dataTypeOfOrt } from "./ort-tensors.ts";
import { sessionOptionsFor } from "./session-options.ts";

type Log = (message: string) => void;

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
