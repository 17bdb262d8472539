import { declaredCalls } from "../../config/dependencies.ts";
import { configFromJson, configToJson } from "../../config/json.ts";
import { FerryError } from "../../core/errors.ts";
import type { ModelConfig } from "../../gen/model_config_pb.ts";
import { sleep } from "../../runtime/timers.ts";
import { startWorker } from "../../runtime/worker.ts";
import type { Backend, LoadSpec, ModelInstance } from "../backend.ts";
import type { FromWorker } from "../worker/messages.ts";
import { WORKER_ENTRY, WorkerInstance } from "../worker/worker-instance.ts";
import { workerSpecFor } from "../worker/worker-spec.ts";

type Log = (message: string) => void;

/** `parameters { key: "execute_timeout_ms" }`: longest `execute`, after which the instance restarts. */
export const DEFAULT_EXECUTE_TIMEOUT_MS = 30_000;
/** `parameters { key: "initialize_timeout_ms" }`: longest load and `initialize` of one instance. */
export const DEFAULT_INITIALIZE_TIMEOUT_MS = 60_000;

/**
 * Models written in TypeScript (`backend: "typescript"`, `model.ts` or
 * `model.js`), the counterpart of Triton's Python backend: each instance
 * runs the model's code in its own Bun Worker.
 */
export class TypeScriptBackend implements Backend {
  readonly name = "typescript";
  readonly platform = "typescript";
  readonly defaultModelFilename = "model.ts";
  readonly defaultCpuInstanceCount = 1;

  constructor(private readonly log: Log = (message) => console.warn(message)) {}

  /** model.ts, or model.js when only that is there. */
  modelFilenameIn(files: readonly string[]): string {
    return !files.includes("model.ts") && files.includes("model.js") ? "model.js" : "model.ts";
  }

  /** Model code declares no tensors of its own: the config (or autoCompleteConfig) does. */
  async inspect(): Promise<undefined> {
    return undefined;
  }

  /** Runs the model class's static `autoCompleteConfig(config)`, if it has one, in a short-lived worker. */
  async autoCompleteConfig(config: ModelConfig, modelFile: string): Promise<ModelConfig> {
    const worker = startWorker(WORKER_ENTRY);
    try {
      const answer = new Promise<FromWorker>((resolve, reject) => {
        worker.addEventListener("message", (event: MessageEvent<FromWorker>) => resolve(event.data));
        worker.addEventListener("error", (event: ErrorEvent) => reject(new Error(event.message)));
      });
      worker.postMessage({ type: "autocomplete", modelFile, config: configToJson(config) });
      const reply = await Promise.race([answer, sleep(DEFAULT_INITIALIZE_TIMEOUT_MS).then(() => undefined)]);
      if (reply?.type === "autocompleted")
        return configFromJson(reply.config, `${modelFile} autoCompleteConfig`);
      const why = reply?.type === "failed" ? reply.error.message : "it did not answer";
      throw new Error(why);
    } catch (error) {
      if (error instanceof FerryError) throw error;
      const why = error instanceof Error ? error.message : String(error);
      throw new FerryError("INVALID_ARGUMENT", "config", `${modelFile}: autoCompleteConfig failed: ${why}`);
    } finally {
      worker.terminate();
    }
  }

  async load(spec: LoadSpec): Promise<ModelInstance> {
    return WorkerInstance.start({
      ...workerSpecFor(
        spec,
        spec.modelFile,
        { executeMs: DEFAULT_EXECUTE_TIMEOUT_MS, initializeMs: DEFAULT_INITIALIZE_TIMEOUT_MS },
        this.log,
      ),
      caller: spec.caller,
      calls: spec.calls ?? declaredCalls(spec.config),
    });
  }
}
