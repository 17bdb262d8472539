import { FerryError } from "../../core/errors.ts";
import type { InferRequest, InferResponse } from "../../core/request.ts";
import { StageClock } from "../../core/stage-clock.ts";
import type { Tensor } from "../../core/tensor.ts";
import type { Scheduler } from "../../scheduler/scheduler.ts";
import type { Router } from "../router.ts";
import { type EnsemblePlan, type PlannedStep, stepsFor } from "./ensemble-plan.ts";

interface Run {
  controller: AbortController;
  fail(error: FerryError): void;
}

/**
 * An ensemble's scheduler: runs the steps a request needs as a dataflow,
 * each as soon as its inputs exist, independent ones at once. Every step
 * is a request to the composing model through the router, so that model's
 * own scheduler (batching, instances, priorities, queue policy) serves it
 * and batches it with other clients' requests. A failed step fails the
 * request naming its model; cancellation stops the steps not yet run.
 */
export class EnsembleScheduler implements Scheduler {
  private readonly runs = new Set<Run>();
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly plan: EnsemblePlan,
    private readonly version: string,
    private readonly router: Router,
  ) {}

  enqueue(request: InferRequest): Promise<InferResponse> {
    if (this.draining) {
      return Promise.reject(
        new FerryError(
          "UNAVAILABLE",
          "scheduler",
          `model '${this.plan.name}' version ${this.version} is unloading`,
        ),
      );
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(request.signal.reason);
    request.signal.addEventListener("abort", onAbort, { once: true });
    let run: Run | undefined;
    const answer = new Promise<InferResponse>((resolve, reject) => {
      run = { controller, fail: reject };
      this.runs.add(run);
      this.execute(request, controller.signal).then(resolve, reject);
    });
    return answer.finally(() => {
      request.signal.removeEventListener("abort", onAbort);
      controller.abort();
      this.runs.delete(run as Run);
      if (this.runs.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }

  pendingCount(): number {
    return this.runs.size;
  }

  drain(): Promise<void> {
    this.draining = true;
    if (this.runs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  abort(error: FerryError): void {
    this.draining = true;
    for (const run of this.runs) {
      run.controller.abort(error);
      run.fail(error);
    }
  }

  private execute(request: InferRequest, signal: AbortSignal): Promise<InferResponse> {
    const wanted =
      request.outputs?.map((output) => output.name) ?? this.plan.outputs.map((output) => output.name);
    const waiting = new Set(stepsFor(this.plan, wanted));
    const tensors = new Map<string, Tensor>(request.inputs.map((input) => [input.name, input]));
    const produced = new Set([...waiting].flatMap((step) => step.outputs.map((output) => output.tensor)));
    return new Promise((resolve, reject) => {
      let running = 0;
      let settled = false;
      const fail = (error: FerryError) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      const launch = () => {
        if (settled) return;
        if (signal.aborted) {
          const id = request.id ? ` '${request.id}'` : "";
          return fail(
            new FerryError("CANCELLED", "scheduler", `ensemble request${id} was cancelled between steps`),
          );
        }
        for (const step of [...waiting]) {
          const inputs = this.stepInputs(step, tensors, produced);
          if (inputs === "wait") continue;
          waiting.delete(step);
          if (inputs instanceof FerryError) return fail(inputs);
          running++;
          this.router.infer(this.stepRequest(request, step, inputs, signal)).then(
            (response) => {
              running--;
              for (const { output, tensor } of step.outputs) {
                const result = response.outputs.find((candidate) => candidate.name === output);
                if (result) tensors.set(tensor, { ...result, name: tensor });
              }
              launch();
            },
            (error: unknown) => {
              running--;
              fail(this.stepFailure(step, error));
            },
          );
        }
        if (!settled && running === 0 && waiting.size === 0) {
          settled = true;
          resolve({
            model: this.plan.name,
            version: this.version,
            ...(request.id === undefined ? {} : { id: request.id }),
            outputs: wanted.flatMap((name) => tensors.get(name) ?? []),
          });
        }
      };
      launch();
    });
  }

  /** A step's inputs once they all exist; an optional one the request left out is left out too. */
  private stepInputs(
    step: PlannedStep,
    tensors: Map<string, Tensor>,
    produced: Set<string>,
  ): Tensor[] | "wait" | FerryError {
    const inputs: Tensor[] = [];
    for (const { input, tensor, optional } of step.inputs) {
      const value = tensors.get(tensor);
      if (value) inputs.push({ ...value, name: input });
      else if (produced.has(tensor)) return "wait";
      else if (!optional) {
        return new FerryError(
          "INVALID_ARGUMENT",
          "scheduler",
          `ensemble '${this.plan.name}' step ${step.index} (model '${step.model}') input '${input}' needs tensor '${tensor}', which the request lacks`,
        );
      }
    }
    return inputs;
  }

  private stepRequest(
    request: InferRequest,
    step: PlannedStep,
    inputs: Tensor[],
    signal: AbortSignal,
  ): InferRequest {
    const stepRequest: InferRequest = {
      model: step.model,
      inputs,
      outputs: step.outputs.map(({ output }) => ({ name: output })),
      parameters: request.parameters,
      signal,
      timing: new StageClock(),
    };
    if (step.version !== undefined) stepRequest.version = step.version;
    if (request.id !== undefined) stepRequest.id = request.id;
    if (request.priority !== undefined) stepRequest.priority = request.priority;
    if (request.timeoutUs !== undefined) stepRequest.timeoutUs = request.timeoutUs;
    if (request.sequence !== undefined) stepRequest.sequence = request.sequence;
    if (request.internal) stepRequest.internal = true;
    return stepRequest;
  }

  /** The step's own error, same code and kind, prefixed with where in the ensemble it happened. */
  private stepFailure(step: PlannedStep, error: unknown): FerryError {
    const failure = FerryError.from(error, "scheduler");
    const Kind = failure.constructor as typeof FerryError;
    return new Kind(
      failure.code,
      failure.layer,
      `ensemble '${this.plan.name}' step ${step.index} (model '${step.model}'): ${failure.detail}`,
      { cause: failure },
    );
  }
}
