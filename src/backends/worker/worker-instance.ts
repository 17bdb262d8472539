import { CALLS_PARAMETER, type ModelDependency } from "../../config/dependencies.ts";
import type { TensorSpec } from "../../config/tensor-spec.ts";
import { splitAlongBatch } from "../../core/batch-split.ts";
import { ComputationError, FerryError } from "../../core/errors.ts";
import { StageClock } from "../../core/stage-clock.ts";
import { elementCount, formatShape, type Tensor } from "../../core/tensor.ts";
import { sleep } from "../../runtime/timers.ts";
import { startWorker } from "../../runtime/worker.ts";
import type { Batch, BatchRequest, Device, ModelCaller, ModelInstance, RequestResult } from "../backend.ts";
import type { InitializeArgs } from "../typescript/model-api.ts";
import { buffersOf, type FromWorker, type ToWorker, type WireError, type WireRequest } from "./messages.ts";

export interface WorkerInstanceSpec {
  model: string;
  instanceName: string;
  device: Device;
  modelFile: string;
  args: InitializeArgs;
  /** The declared outputs that model code's answers are checked against; absent: no check (the runner answers for itself). */
  outputs?: TensorSpec[];
  decoupled: boolean;
  executeTimeoutMs: number;
  initializeTimeoutMs: number;
  caller: ModelCaller | undefined;
  /** parameters ferry.calls: the only models it may call (at the version named there); undefined = any. */
  calls: ModelDependency[] | undefined;
  log: (message: string) => void;
  /** How a failure of the code in the worker reads (default: "model 'm' execute failed in m_0: …"). */
  describeFailure?: (during: string, message: string) => string;
}

interface Execution {
  id: number;
  batch: Batch;
  resolve(results: RequestResult[]): void;
  reject(error: FerryError): void;
}

/** The script every model worker runs (TypeScript model code, onnxruntime sessions). */
export const WORKER_ENTRY = new URL("./worker-main.ts", import.meta.url).href;

/**
 * One instance of a TypeScript model: its own Bun Worker, so model code
 * never blocks the event loop and instances run in parallel. Inputs cross
 * by copy (a joined batch's fresh buffers are moved), outputs come back by
 * moving their buffers. A worker that crashes, or an execute that overruns
 * `execute_timeout_ms`, fails the requests it held and is replaced by a
 * fresh worker (initialize runs again); the server carries on.
 */
export class WorkerInstance implements ModelInstance {
  readonly name: string;
  readonly device: Device;
  private worker!: Worker;
  private ready!: Promise<void>;
  private current: Execution | undefined;
  /** The execution in progress, settled or not: close waits for it before finalize. */
  private running: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private closed: Promise<void> | undefined;
  /** Answers to `finalize` / init, while one is awaited. */
  private control: { resolve(): void; reject(error: FerryError): void } | undefined;
  /** Calls model code made to other models, by call number, to cancel. */
  private readonly calls = new Map<number, AbortController>();
  /** True while a worker loads the model: a crash then fails the start instead of restarting again. */
  private starting = false;

  private constructor(private readonly spec: WorkerInstanceSpec) {
    this.name = spec.instanceName;
    this.device = spec.device;
  }

  /** Starts the worker and runs the model's initialize; rejects with its error. */
  static async start(spec: WorkerInstanceSpec): Promise<WorkerInstance> {
    const instance = new WorkerInstance(spec);
    instance.ready = instance.spawn();
    try {
      await instance.ready;
    } catch (error) {
      instance.worker.terminate();
      throw error;
    }
    return instance;
  }

  async execute(batch: Batch): Promise<RequestResult[]> {
    if (this.closed) throw new FerryError("UNAVAILABLE", "backend", `instance ${this.name} is closed`);
    await this.ready;
    const id = this.nextId++;
    const computeStart = performance.now();
    const requests = this.wireRequests(batch);
    // A joined batch is ours alone: its numeric buffers move instead of being copied.
    const transfer =
      batch.sizes.length > 1 ? buffersOf(batch.inputs.filter((input) => !Array.isArray(input.data))) : [];
    const answer = new Promise<RequestResult[]>((resolve, reject) => {
      this.current = { id, batch, resolve, reject };
    });
    this.running = answer.catch(() => undefined);
    const timer = setTimeout(() => {
      this.replace(
        new FerryError(
          "UNAVAILABLE",
          "backend",
          `model '${this.spec.model}' instance ${this.name}: execute did not finish within ${this.spec.executeTimeoutMs} ms (parameters execute_timeout_ms); the instance restarts`,
        ),
      );
    }, this.spec.executeTimeoutMs);
    const cancels = (batch.requests ?? []).map((request, index) => {
      const cancel = () => this.post({ type: "cancel", id, index });
      request?.signal.addEventListener("abort", cancel, { once: true });
      return () => request?.signal.removeEventListener("abort", cancel);
    });
    this.post({ type: "execute", id, requests }, transfer);
    try {
      const results = await answer;
      const outputStart = performance.now();
      StageClock.stampExecution(batch.clocks, {
        computeStart,
        inferStart: computeStart,
        outputStart,
        computeEnd: performance.now(),
      });
      return results;
    } finally {
      clearTimeout(timer);
      for (const stop of cancels) stop();
      this.current = undefined;
    }
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.ready.catch(() => undefined);
      await this.running;
      const finalized = new Promise<void>((resolve, reject) => {
        this.control = { resolve, reject };
      });
      this.post({ type: "finalize" });
      let answered = false;
      // Warns only when finalize really is late: the timer outlives a prompt answer.
      const timeout = sleep(5000).then(() => {
        if (!answered)
          this.spec.log(`model '${this.spec.model}' ${this.name}: finalize did not return within 5 s`);
      });
      await Promise.race([finalized.catch((error: FerryError) => this.spec.log(error.message)), timeout]);
      answered = true;
      this.worker.terminate();
    })();
    return this.closed;
  }

  /** A new worker with the model loaded and initialized. */
  private spawn(): Promise<void> {
    this.starting = true;
    const worker = startWorker(WORKER_ENTRY);
    this.worker = worker;
    worker.addEventListener("message", (event: MessageEvent<FromWorker>) => this.receive(event.data));
    worker.addEventListener("error", (event: ErrorEvent) => {
      if (this.worker === worker) this.replace(this.crash(errorText(event)));
    });
    worker.addEventListener("close", (event: Event) => {
      const code = (event as CloseEvent).code;
      if (this.worker === worker && !this.closed)
        this.replace(this.crash(`the worker exited (code ${code})`));
    });
    const initialized = new Promise<void>((resolve, reject) => {
      this.control = { resolve, reject };
    });
    this.post({
      type: "init",
      modelFile: this.spec.modelFile,
      args: this.spec.args,
      decoupled: this.spec.decoupled,
    });
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () =>
          reject(
            new FerryError(
              "DEADLINE_EXCEEDED",
              "backend",
              `model '${this.spec.model}' ${this.name}: initialize did not finish within ${this.spec.initializeTimeoutMs} ms (parameters initialize_timeout_ms)`,
            ),
          ),
        this.spec.initializeTimeoutMs,
      ).unref(),
    );
    return Promise.race([initialized, timeout]).finally(() => {
      this.starting = false;
    });
  }

  private crash(why: string): FerryError {
    return new FerryError(
      "UNAVAILABLE",
      "backend",
      `model '${this.spec.model}' instance ${this.name} crashed: ${why}; it restarts`,
    );
  }

  /** Fails what the worker held, and starts a fresh one in its place. */
  private replace(failure: FerryError): void {
    const old = this.worker;
    const wasStarting = this.starting;
    this.current?.reject(failure);
    this.current = undefined;
    this.control?.reject(failure);
    this.control = undefined;
    for (const call of this.calls.values()) call.abort();
    this.calls.clear();
    old.terminate();
    if (this.closed || wasStarting) return;
    this.spec.log(failure.message);
    this.ready = this.spawn();
    this.ready.catch((error: unknown) =>
      this.spec.log(`model '${this.spec.model}' ${this.name} failed to restart: ${String(error)}`),
    );
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case "ready":
      case "finalized":
        this.control?.resolve();
        this.control = undefined;
        return;
      case "failed":
        this.control?.reject(this.modelError(message.error, "initialize"));
        this.control = undefined;
        return;
      case "executed":
        if (message.id === this.current?.id)
          this.current.resolve(message.results.map((result, index) => this.result(result, index)));
        return;
      case "execute-failed":
        if (message.id === this.current?.id) this.current.reject(this.modelError(message.error, "execute"));
        return;
      case "sent":
        if (message.id === this.current?.id) this.deliver(message);
        return;
      case "infer":
        return void this.forward(message);
      case "cancel-infer":
        this.calls.get(message.call)?.abort();
        return;
      case "autocompleted":
        return;
    }
  }

  /** A decoupled model's response, sent while its execute runs, handed to the request's listener. */
  private deliver(message: Extract<FromWorker, { type: "sent" }>): void {
    const request = this.current?.batch.requests?.[message.index];
    const problem = this.checkOutputs(message.outputs, request);
    if (problem) this.spec.log(`${problem.message} (a decoupled response, dropped)`);
    else request?.onResponse?.(message.outputs, message.final);
  }

  /** A call model code made to another model, run through the caller (the router). */
  private async forward(message: Extract<FromWorker, { type: "infer" }>): Promise<void> {
    const controller = new AbortController();
    this.calls.set(message.call, controller);
    const worker = this.worker;
    try {
      if (!this.spec.caller)
        throw new FerryError("UNAVAILABLE", "backend", "this server cannot route model calls");
      const version = message.version ?? this.declaredVersion(message.model);
      const request = {
        model: message.model,
        inputs: message.inputs,
        parameters: message.parameters ?? {},
        signal: controller.signal,
        timing: new StageClock(),
        ...(version === undefined ? {} : { version }),
        ...(message.outputs === undefined ? {} : { outputs: message.outputs.map((name) => ({ name })) }),
      };
      const response = await this.spec.caller.infer(request);
      if (worker === this.worker)
        this.post({ type: "infer-result", call: message.call, outputs: response.outputs });
    } catch (error) {
      const failure = FerryError.from(error, "backend");
      const wire: WireError = { message: `model '${message.model}': ${failure.message}`, code: failure.code };
      if (worker === this.worker) this.post({ type: "infer-result", call: message.call, error: wire });
    } finally {
      this.calls.delete(message.call);
    }
  }

  /** The version a declared call pins; a call the config does not declare is refused. */
  private declaredVersion(model: string): string | undefined {
    const { calls } = this.spec;
    if (!calls) return undefined;
    const declared = calls.find((call) => call.model === model);
    if (!declared) {
      throw new FerryError(
        "FAILED_PRECONDITION",
        "backend",
        `model '${this.spec.model}' may call only the models its config declares (parameters ${CALLS_PARAMETER}: ${calls.map((call) => call.model).join(", ") || "none"}), not '${model}'`,
      );
    }
    return declared.version;
  }

  private result(result: Tensor[] | WireError | null, index: number): RequestResult {
    if (result === null) return [];
    if (!Array.isArray(result)) return this.modelError(result, "execute");
    return this.checkOutputs(result, this.current?.batch.requests?.[index]) ?? result;
  }

  /** Outputs must be declared ones, of the declared datatype, holding as many elements as their shape. */
  private checkOutputs(outputs: Tensor[], request: BatchRequest | undefined): FerryError | undefined {
    if (!this.spec.outputs) return undefined;
    for (const tensor of outputs) {
      const spec = this.spec.outputs.find((candidate) => candidate.name === tensor.name);
      const where = `model '${this.spec.model}' output '${tensor.name}'`;
      let problem: string | undefined;
      if (!spec && (request?.outputs.includes(tensor.name) ?? true))
        problem = `${where} is not declared in the config`;
      else if (spec && tensor.datatype !== spec.datatype)
        problem = `${where} is ${tensor.datatype}, declared ${spec.datatype}`;
      else if (!Array.isArray(tensor.shape) || tensor.data?.length !== elementCount(tensor.shape))
        problem = `${where} holds ${tensor.data?.length} element(s) but shape ${formatShape(tensor.shape ?? [])} needs ${elementCount(tensor.shape ?? [])} (was its buffer handed over before?)`;
      if (problem) return new ComputationError("INTERNAL", "backend", problem);
    }
    return undefined;
  }

  private modelError(error: WireError, during: string): FerryError {
    const detail =
      this.spec.describeFailure?.(during, error.message) ??
      `model '${this.spec.model}' ${during} failed in ${this.name}: ${error.message}`;
    return new ComputationError(error.code ?? "INTERNAL", "backend", detail);
  }

  private wireRequests(batch: Batch): WireRequest[] {
    const split = batch.inputs.map((input) => splitAlongBatch(input, batch.sizes));
    return batch.sizes.map((_, index) => {
      const request = batch.requests?.[index];
      const sequence = request?.sequence;
      return {
        id: request?.id,
        inputs: split.map((parts) => parts[index] as Tensor),
        requestedOutputs: request?.outputs ?? batch.outputs,
        parameters: request?.parameters ?? {},
        correlationId: sequence?.id,
        sequenceStart: sequence?.start ?? false,
        sequenceEnd: sequence?.end ?? false,
      };
    });
  }

  private post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }
}

/** Bun's worker error events carry a code frame; the line that says what went wrong is enough. */
function errorText(event: ErrorEvent): string {
  const text = event.message || String(event.error ?? "unknown error");
  const line = text.split("\n").find((candidate) => /^\s*\w*Error: /.test(candidate));
  return (line ?? text.split("\n")[0] ?? text).trim();
}
