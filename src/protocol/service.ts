import type { JsonObject } from "@bufbuild/protobuf";
import { configFromJson } from "../config/json.ts";
import { clientShape } from "../config/tensor-spec.ts";
import { FerryError } from "../core/errors.ts";
import type { ModelMetadata } from "../core/model-metadata.ts";
import type { InferRequest, InferResponse } from "../core/request.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";
import { type ModelReport, modelReports } from "../health/readiness.ts";
import type { ServerState } from "../health/server-state.ts";
import { writeFileOverrides } from "../repository/file-overrides.ts";
import type { IndexEntry, LoadOverride, ModelManager } from "../repository/model-manager.ts";
import type { RepositoryStatus } from "../repository/poller.ts";
import type { ModelPromotionView } from "../repository/promotion-view.ts";
import { isSafeModelName } from "../repository/source.ts";
import type { ModelVersion } from "../serving/model-version.ts";

export type { ModelMetadata, TensorMetadata } from "../core/model-metadata.ts";

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface ServiceOptions {
  serverName: string;
  serverVersion: string;
  /** Protocol extensions ferry really implements, reported in server metadata. */
  extensions: string[];
  strictReadiness: boolean;
  /** --model-control-mode: the load and unload API work in explicit mode only. */
  controlMode: "none" | "explicit" | "poll";
  /** Where the load API writes file overrides. */
  overridesDir: string;
  /** Whether file overrides may carry model code (see codeOverridesAllowed). */
  allowCodeOverrides: boolean;
  /** The repository layer of the verbose readiness view. */
  repositoryStatus?: () => RepositoryStatus;
}

/** What the repository load API may carry besides the model name. */
export interface LoadRequest {
  /** JSON of a ModelConfig, used instead of config.pbtxt. */
  config?: string;
  /** `file:<version>/<path>` overrides: path → content. */
  files: Map<string, Uint8Array>;
}

/**
 * The one core API every protocol adapter calls. Adapters decode the wire
 * into these calls and encode what they return; nothing here knows about
 * HTTP or gRPC.
 */
export class InferenceService {
  constructor(
    private readonly manager: ModelManager,
    private readonly state: ServerState,
    private readonly options: ServiceOptions,
  ) {}

  /** True while the process can answer; throws UNAVAILABLE "Server exiting" during shutdown. */
  serverLive(): boolean {
    this.state.assertNotExiting();
    return true;
  }

  serverReady(): boolean {
    this.state.assertNotExiting();
    return this.state.isReady();
  }

  /**
   * Health of a named service for the gRPC health protocol: "" (and the
   * inference service's own name) is server readiness, a model name is that
   * model's readiness; anything else is unknown.
   */
  serviceHealth(name: string): "SERVING" | "NOT_SERVING" | "UNKNOWN" {
    if (this.state.phase === "EXITING") return "NOT_SERVING";
    if (name === "" || name === "inference.GRPCInferenceService" || name === "grpc.health.v1.Health") {
      return this.state.isReady() ? "SERVING" : "NOT_SERVING";
    }
    if (!this.manager.knownModels().includes(name)) return "UNKNOWN";
    return this.manager.versionStatus(name).some((status) => status.state === "READY")
      ? "SERVING"
      : "NOT_SERVING";
  }

  serverMetadata(): ServerMetadata {
    return {
      name: this.options.serverName,
      version: this.options.serverVersion,
      extensions: this.options.extensions,
    };
  }

  /**
   * True when the version (or the highest ready one) serves and passes its
   * readiness checks; false when it serves but fails them; NOT_FOUND /
   * UNAVAILABLE errors when it does not serve.
   */
  modelReady(model: string, version?: string): boolean {
    this.state.assertNotExiting();
    this.requireName(model, "ModelReady");
    return this.manager.isReady(model, version);
  }

  /** The verbose ready probe: server phase and per-model, per-version, per-check readiness. */
  readinessReport(): {
    ready: boolean;
    phase: string;
    strict_readiness: boolean;
    repository?: RepositoryStatus;
    models: ModelReport[];
  } {
    this.state.assertNotExiting();
    const repository = this.options.repositoryStatus?.();
    return {
      ready: this.state.isReady(),
      phase: this.state.phase,
      strict_readiness: this.options.strictReadiness,
      ...(repository ? { repository } : {}),
      models: modelReports(this.manager).map((report) => this.withBatching(report)),
    };
  }

  /** Serving versions with a latency objective show what their batcher learned. */
  private withBatching(report: ModelReport): ModelReport {
    const served = new Map(this.manager.servingVersions(report.name).map((v) => [v.version, v]));
    return {
      ...report,
      versions: report.versions.map((entry) => {
        const batching = served.get(entry.version)?.batchingReport();
        return batching ? { ...entry, batching } : entry;
      }),
    };
  }

  modelMetadata(model: string, version?: string): ModelMetadata {
    this.requireName(model, "ModelMetadata");
    const served = this.manager.resolve(model, version);
    const { maxBatchSize } = served.model;
    const describe = (spec: (typeof served.model.inputs)[number]) => ({
      name: spec.name,
      datatype: spec.datatype,
      shape: clientShape(spec, maxBatchSize),
    });
    return {
      name: model,
      versions: this.manager
        .versionStatus(model)
        .filter((status) => status.state === "READY")
        .map((status) => status.version),
      platform: served.config.platform || served.config.backend,
      inputs: served.model.inputs.map(describe),
      outputs: served.model.outputs.map(describe),
    };
  }

  modelConfig(model: string, version?: string): ModelConfig {
    this.requireName(model, "ModelConfig");
    return this.manager.resolve(model, version).config;
  }

  /** The version a request would reach, for adapters that need its interface (raw binary requests). */
  resolveModel(model: string, version?: string): ModelVersion {
    this.requireName(model, "ModelInfer");
    return this.manager.resolve(model, version);
  }

  /** The statistics extension: every serving version of every model, of one model, or one version. */
  modelStatistics(model?: string, version?: string): { model_stats: JsonObject[] } {
    return {
      model_stats: this.manager.servingVersions(model, version).map((served) => served.statistics.toJson()),
    };
  }

  /** Per loaded model: how unversioned requests split, and the promotion history behind it (ferry's own). */
  promotions(): { models: ModelPromotionView[] } {
    return { models: this.manager.knownModels().map((model) => this.manager.promotion(model)) };
  }

  /** The repository index: every model with its versions' state and reason. */
  repositoryIndex(readyOnly: boolean): Promise<IndexEntry[]> {
    return this.manager.index(readyOnly);
  }

  /** Loads or reloads a model (explicit mode); resolves once the load finished, rejects with why it failed. */
  async loadModel(model: string, request: LoadRequest): Promise<void> {
    this.requireExplicitMode("load");
    this.requireName(model, "RepositoryModelLoad");
    if (!isSafeModelName(model))
      throw new FerryError("INVALID_ARGUMENT", "repository", `invalid model name '${model}'`);
    if (request.files.size > 0 && request.config === undefined) {
      throw new FerryError(
        "INVALID_ARGUMENT",
        "repository",
        "file overrides need the 'config' parameter as well",
      );
    }
    const code = [...request.files.keys()].find((path) => CODE_FILE.test(path));
    if (code !== undefined && !this.options.allowCodeOverrides) {
      throw new FerryError(
        "PERMISSION_DENIED",
        "repository",
        `file override 'file:${code}' carries model code, which the load API accepts only with --allow-code-overrides (and, when restricted APIs are on, with model-repository among them)`,
      );
    }
    const override: LoadOverride = {};
    if (request.config !== undefined)
      override.config = configFromJson(parseJson(request.config), "load parameter 'config'");
    if (request.files.size > 0)
      override.source = await writeFileOverrides(this.options.overridesDir, model, request.files);
    await this.manager.loadModel(model, override);
  }

  /** Starts unloading a model (explicit mode) and returns at once; in-flight requests finish first. */
  unloadModel(model: string): void {
    this.requireExplicitMode("unload");
    this.requireName(model, "RepositoryModelUnload");
    void this.manager.unloadModel(model);
  }

  private requireExplicitMode(action: string): void {
    if (this.options.controlMode !== "explicit") {
      throw new FerryError(
        "FAILED_PRECONDITION",
        "repository",
        `cannot ${action} models in model control mode '${this.options.controlMode}': use --model-control-mode=explicit`,
      );
    }
  }

  /** Runs up to the scheduler's queue synchronously, so calls made in order are queued in order. */
  async infer(request: InferRequest): Promise<InferResponse> {
    this.state.assertAcceptingInference();
    this.requireName(request.model, "ModelInfer");
    assertVersionNumber(request.version);
    return this.manager.infer(request);
  }

  private requireName(model: string, call: string): void {
    if (!model) throw new FerryError("INVALID_ARGUMENT", "protocol", `Missing model name in ${call} request`);
  }
}

/** A model version in a request is a number (or absent), whatever the protocol. */
export function assertVersionNumber(version: string | undefined): void {
  if (version !== undefined && version !== "" && !/^[0-9]+$/.test(version))
    throw new FerryError("INVALID_ARGUMENT", "protocol", `model version must be a number, got '${version}'`);
}

/** Files model code is loaded from: a TypeScript model's code runs with the server's rights. */
const CODE_FILE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/i;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FerryError(
      "INVALID_ARGUMENT",
      "config",
      `load parameter 'config' is not valid JSON: ${(error as Error).message}`,
    );
  }
}
