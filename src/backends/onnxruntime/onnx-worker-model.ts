/**
 * An onnxruntime session run inside a worker (an ONNX model's instance with
 * `execution` = worker): the worker mechanism of TypeScript models loads
 * this module as the "model code", so a session's run never blocks the
 * server's event loop. A batch arrives as one request per client request
 * (views of the batch the scheduler joined, so joining them again is free)
 * and its outputs go back split the same way.
 */
import { configFromJson } from "../../config/json.ts";
import { concatAlongBatch, splitAlongBatch } from "../../core/batch-split.ts";
import { FerryError } from "../../core/errors.ts";
import type { Tensor } from "../../core/tensor.ts";
import type { InitializeArgs, ModelRequest, TensorMap } from "../typescript/model-api.ts";
import { ort } from "./ort-runtime.ts";
import { fromOrtTensor, toOrtTensor } from "./ort-tensors.ts";
import { sessionOptionsFor } from "./session-options.ts";

export default class OnnxWorkerModel {
  private session: ort.InferenceSession | undefined;
  private name = "";

  async initialize(args: InitializeArgs): Promise<void> {
    const config = configFromJson(args.config, `model '${args.modelName}' config`);
    this.name = args.instanceName;
    const device = args.instanceKind === "GPU" ? (`gpu:${args.instanceDeviceId}` as const) : "cpu";
    const file = args.modelFile;
    try {
      this.session = await ort.InferenceSession.create(file, sessionOptionsFor(config, device, 4));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw Object.assign(new Error(`onnxruntime cannot load ${file}: ${why}`), { code: "INVALID_ARGUMENT" });
    }
  }

  async execute(requests: ModelRequest[]): Promise<TensorMap[]> {
    try {
      return await this.run(requests);
    } catch (error) {
      // ferry's own errors keep their code, without the layer prefix the server adds again.
      if (error instanceof FerryError) throw Object.assign(new Error(error.detail), { code: error.code });
      throw error;
    }
  }

  private async run(requests: ModelRequest[]): Promise<TensorMap[]> {
    const session = this.session as ort.InferenceSession;
    // One request: its tensors as they are; several: each one's rows, joined back without a copy.
    const sizes =
      requests.length === 1
        ? [1]
        : requests.map((request) => Object.values(request.inputs)[0]?.shape[0] ?? 1);
    const feeds: Record<string, ort.Tensor> = {};
    try {
      for (const name of Object.keys(requests[0]?.inputs ?? {})) {
        const parts = requests.map((request) => ({
          name,
          ...(request.inputs[name] as Omit<Tensor, "name">),
        }));
        feeds[name] = toOrtTensor(concatAlongBatch(parts));
      }
      const wanted = [...new Set(requests.flatMap((request) => request.requestedOutputs))];
      let results: ort.InferenceSession.ReturnType;
      try {
        results = await session.run(feeds, wanted);
      } catch (error) {
        throw new Error(
          `onnxruntime failed in ${this.name}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      const perRequest: TensorMap[] = requests.map(() => ({}));
      for (const name of wanted) {
        const value = results[name];
        if (!value) throw new Error(`onnxruntime returned no output '${name}'`);
        splitAlongBatch(fromOrtTensor(name, value), sizes).forEach((part, index) => {
          (perRequest[index] as TensorMap)[name] = {
            datatype: part.datatype,
            shape: part.shape,
            data: part.data,
          };
        });
      }
      return perRequest;
    } finally {
      for (const feed of Object.values(feeds)) feed.dispose();
    }
  }

  async finalize(): Promise<void> {
    await this.session?.release();
  }
}
