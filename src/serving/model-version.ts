import type { Device, ModelInstance } from "../backends/backend.ts";
import type { ModelDependency } from "../config/dependencies.ts";
import type { ModelInterface } from "../config/model-interface.ts";
import { FerryError } from "../core/errors.ts";
import type { FailureReason, InferenceObserver } from "../core/observer.ts";
import type { InferRequest, InferResponse } from "../core/request.ts";
import type { Tensor } from "../core/tensor.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";
import type { VersionHealth } from "../health/checks.ts";
import type { GoldenRequest } from "../health/golden.ts";
import type { CheckedVersion } from "../health/version-checks.ts";
import type { VersionStatistics } from "../metrics/statistics.ts";
import type { BatchingReport } from "../scheduler/adaptive-batcher.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { classify } from "./classification.ts";
import { checkRequest, reshaped } from "./request-check.ts";

export interface ModelVersionParts {
  config: ModelConfig;
  version: string;
  model: ModelInterface;
  instances: ModelInstance[];
  scheduler: Scheduler;
  observer: InferenceObserver;
  statistics: VersionStatistics;
  /** Label lines per output name (classification), from `label_filename`. */
  labels: Map<string, string[]>;
  devices: Device[];
  placementNotes: string[];
  latencyBoundMs: number;
  sequenceId: bigint | string | undefined;
  syntheticInputs: Tensor[] | undefined;
  golden: GoldenRequest[];
  /** The models it runs on: an ensemble's steps, a TypeScript model's declared calls. */
  composing: ModelDependency[];
}

/**
 * One loaded, serving version of a model: its completed config, instances
 * and scheduler. `infer` is the whole request path below the protocol
 * adapters: check, queue, execute, shape the outputs, report.
 */
export class ModelVersion implements CheckedVersion {
  readonly name: string;
  readonly version: string;
  readonly config: ModelConfig;
  readonly model: ModelInterface;
  readonly devices: Device[];
  readonly placementNotes: string[];
  readonly latencyBoundMs: number;
  readonly sequenceId: bigint | string | undefined;
  readonly syntheticInputs: Tensor[] | undefined;
  readonly golden: readonly GoldenRequest[];
  readonly composing: readonly ModelDependency[];
  /** model_transaction_policy { decoupled: true }: 0..N responses per request, streamed. */
  readonly decoupled: boolean;
  /** The latest readiness verdict: from load, then from the periodic checks. */
  health: VersionHealth = { ready: false, checks: [], checkedAt: "" };

  constructor(private readonly parts: ModelVersionParts) {
    this.name = parts.model.name;
    this.version = parts.version;
    this.config = parts.config;
    this.model = parts.model;
    this.devices = parts.devices;
    this.placementNotes = parts.placementNotes;
    this.latencyBoundMs = parts.latencyBoundMs;
    this.sequenceId = parts.sequenceId;
    this.syntheticInputs = parts.syntheticInputs;
    this.golden = parts.golden;
    this.composing = parts.composing;
    this.decoupled = parts.config.modelTransactionPolicy?.decoupled === true;
  }

  async infer(request: InferRequest): Promise<InferResponse> {
    const { observer } = this.parts;
    try {
      const { inputs, batchSize } = checkRequest(this.model, request);
      const queued: InferRequest = { ...request, inputs };
      const collected = this.decoupled ? this.streamResponses(request, queued) : undefined;
      const response = await this.parts.scheduler.enqueue(queued, batchSize);
      if (collected) response.outputs = collected.outputs;
      response.outputs = this.shapeOutputs(request, response.outputs, batchSize);
      request.timing.finished = performance.now();
      if (!request.internal) observer.succeeded(batchSize, request.timing);
      return response;
    } catch (error) {
      request.timing.finished = performance.now();
      const failure = FerryError.from(error, "backend");
      if (!request.internal) observer.failed(failureReason(failure), request.timing);
      throw failure;
    }
  }

  /**
   * A decoupled model's responses go to the request's listener (the gRPC
   * stream), each cut to the requested outputs; no listener (a unary
   * endpoint) is refused, as Triton does. ferry's own readiness requests
   * collect them instead and are checked on the last one.
   */
  private streamResponses(request: InferRequest, queued: InferRequest): { outputs: Tensor[] } | undefined {
    const collected = { outputs: [] as Tensor[] };
    const listener = request.onResponse;
    if (!listener && !request.internal) {
      throw new FerryError(
        "INVALID_ARGUMENT",
        "protocol",
        `model '${this.name}' is decoupled (model_transaction_policy): its responses stream over gRPC ModelStreamInfer only`,
      );
    }
    const wanted = request.outputs && new Set(request.outputs.map((output) => output.name));
    queued.onResponse = (response, final) => {
      const outputs = wanted
        ? response.outputs.filter((tensor) => wanted.has(tensor.name))
        : response.outputs;
      if (listener) listener({ ...response, model: this.name, version: this.version, outputs }, final);
      else collected.outputs = outputs;
    };
    return listener ? undefined : collected;
  }

  /** Requested outputs only, in the requested order, with config reshape and classification applied. */
  private shapeOutputs(request: InferRequest, produced: Tensor[], batchSize: number): Tensor[] {
    if (this.decoupled) return produced;
    const batched = this.model.maxBatchSize > 0;
    const wanted =
      request.outputs ?? this.model.outputs.map((spec) => ({ name: spec.name, classification: 0 }));
    return wanted.map((requested) => {
      const spec = this.model.outputs.find((candidate) => candidate.name === requested.name);
      let tensor = produced.find((candidate) => candidate.name === requested.name);
      if (!spec || !tensor)
        throw new FerryError("INTERNAL", "backend", `output '${requested.name}' was not produced`);
      if (spec.reshape) tensor = reshaped(tensor, spec.dims, batched);
      if (requested.classification && requested.classification > 0) {
        tensor = classify(
          tensor,
          requested.classification,
          batched && batchSize > 0,
          this.parts.labels.get(spec.name),
        );
      }
      return tensor;
    });
  }

  get statistics(): VersionStatistics {
    return this.parts.statistics;
  }

  pendingCount(): number {
    return this.parts.scheduler.pendingCount();
  }

  /** With a latency objective: the batcher's objective, arrival rate and learned execution times. */
  batchingReport(): BatchingReport | undefined {
    return this.parts.scheduler.batchingReport?.();
  }

  /** Fails what is queued or running with `error` (exit timeout). */
  abort(error: FerryError): void {
    this.parts.scheduler.abort(error);
  }

  /** Lets queued and running requests finish, then frees every instance. */
  async unload(): Promise<void> {
    await this.parts.scheduler.drain();
    await Promise.all(this.parts.instances.map((instance) => instance.close()));
  }
}

function failureReason(error: FerryError): FailureReason {
  if (error.code === "CANCELLED") return "CANCELED";
  if (error.layer === "scheduler") return "REJECTED";
  if (error.layer === "backend" && error.code === "INTERNAL") return "BACKEND";
  return "OTHER";
}
