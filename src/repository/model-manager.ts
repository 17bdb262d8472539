import { FerryError } from "../core/errors.ts";
import type { InferRequest, InferResponse } from "../core/request.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";
import type { CheckResult, VersionHealth } from "../health/checks.ts";
import type { VersionStatus } from "../health/version-status.ts";
import type { ModelVersion } from "../serving/model-version.ts";
import type { Router } from "../serving/router.ts";
import type { PromotionManifest } from "./manifest.ts";
import { ModelDependencies } from "./model-dependencies.ts";
import { type IndexEntry, indexRows, ModelEntry } from "./model-entry.ts";
import { type LoaderOptions, type ModelPlan, planModel } from "./model-plan.ts";
import { PipelinePins } from "./pipeline-pins.ts";
import { type ModelPromotionView, promotionView } from "./promotion-view.ts";
import { type Route, WeightedRoutes } from "./routing.ts";
import type { ModelListing, ModelSource } from "./source.ts";
import { VersionLifecycle } from "./version-lifecycle.ts";

export type { IndexEntry } from "./model-entry.ts";

export interface LoadOverride {
  config?: ModelConfig;
  source?: ModelSource;
}

export interface LoadMode {
  /** Reload versions that already serve even if nothing about them changed (the load API does). */
  force: boolean;
}

type Log = (message: string) => void;

/**
 * The table model → versions → serving ModelVersion, and each version's
 * state (LOADING, READY, UNAVAILABLE with a reason, UNLOADING). A load
 * builds a version completely before one assignment makes it serve; a
 * version that fails leaves what served before untouched.
 */
export class ModelManager implements Router {
  private readonly models = new Map<string, ModelEntry>();
  /**
   * Models the server is expected to serve, which strict readiness waits
   * for: those it started with or follows in the repository, and those the
   * load API loaded successfully, until an unload removes them.
   */
  private readonly required = new Set<string>();

  private readonly options: LoaderOptions;
  private readonly dependencies: ModelDependencies;
  private readonly pins: PipelinePins;
  /** Loading, retiring and unloading versions of one model. */
  private readonly versions: VersionLifecycle;

  constructor(
    options: LoaderOptions,
    private readonly log: Log = console.log,
  ) {
    this.options = { ...options, router: this };
    this.versions = new VersionLifecycle(log, options.onLoadFailed, (version) => this.pins.release(version));
    this.pins = new PipelinePins({
      entry: (name) => this.entry(name),
      existing: (name) => this.models.get(name),
      plan: async (name, manifest) => {
        const listing = await this.options.source.describe(name);
        return planModel({ ...listing, manifest }, this.options);
      },
      loadCandidate: (entry, version, plan) =>
        this.versions.loadCandidate(entry, version, plan, this.options),
      unloadVersions: (entry, versions) => this.versions.unload(entry, versions),
      onLoadFailed: (model, version, reason) => this.options.onLoadFailed?.(model, version, reason),
    });
    this.dependencies = new ModelDependencies(
      this,
      (model) => (this.models.get(model)?.servingNumbers().length ?? 0) > 0,
      // Like the load API: a composing model counts for readiness once it loaded.
      (model) => this.loadModel(model, {}, { force: false }),
    );
  }

  /** Every model the repository holds, whether loaded or not. */
  repositoryModels(): Promise<string[]> {
    return this.options.source.list();
  }

  /**
   * The repository index: every model of the repository and every model
   * loaded, one row per known version (name only for models never loaded).
   */
  async index(readyOnly: boolean): Promise<IndexEntry[]> {
    const names = new Set([...(await this.repositoryModels()), ...this.knownModels()]);
    return indexRows([...names].sort(), (name) => this.versionStatus(name), readyOnly);
  }

  /** Whether server readiness waits for this model (see `required`). */
  isRequired(name: string): boolean {
    return this.required.has(name);
  }

  /** Models the manager has tried to load, in name order. */
  knownModels(): string[] {
    return [...this.models.keys()].sort();
  }

  /**
   * Loads (or reloads) a model; rejects with the reason when no selected
   * version could load. `override` is the repository load API's: a config
   * used instead of config.pbtxt, and a source holding override files.
   */
  loadModel(name: string, override: LoadOverride = {}, mode: LoadMode = { force: true }): Promise<void> {
    const entry = this.entry(name);
    return entry.serialize(async () => {
      await this.load(entry, override, mode);
      this.required.add(name);
    });
  }

  /**
   * Brings a model in line with its repository listing (poll mode, start-up):
   * does nothing while the listing's fingerprint is the one last loaded,
   * else loads what is new or changed. Source trouble (S3 unreachable)
   * leaves what serves untouched and rejects, so the caller retries.
   * Resolves true when the model is settled, false when it needs a retry.
   */
  syncModel(name: string): Promise<boolean> {
    const entry = this.entry(name);
    this.required.add(name);
    return entry.serialize(async () => {
      let listing: ModelListing;
      try {
        listing = await this.options.source.describe(name);
      } catch (error) {
        const failure = FerryError.from(error, "repository");
        if (!isTransient(failure) || entry.servingNumbers().length === 0) {
          entry.fingerprint = undefined;
          this.recordModelFailure(entry, undefined, failure);
        }
        if (isTransient(failure)) throw failure;
        return true;
      }
      if (entry.fingerprint !== undefined && listing.fingerprint === entry.fingerprint) return true;
      await this.load(entry, {}, { force: false }, listing).catch(() => undefined);
      return entry.fingerprint !== undefined;
    });
  }

  /** Stops serving a model; resolves when its versions drained and unloaded. Unknown models are a no-op. */
  unloadModel(name: string): Promise<void> {
    this.required.delete(name);
    const entry = this.models.get(name);
    if (!entry) return Promise.resolve();
    return entry.serialize(() => {
      entry.fingerprint = undefined;
      return this.versions.unload(entry, [...entry.versions.keys()]);
    });
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.knownModels().map((name) => this.unloadModel(name)));
  }

  /** Fails every queued and running request of every version (unloading ones included). */
  abortAll(error: FerryError): void {
    for (const version of this.versions.draining) version.abort(error);
    for (const entry of this.models.values())
      for (const slot of entry.versions.values()) slot.serving?.abort(error);
  }

  /** The version a request goes to: the given one, or the highest-numbered READY version. */
  resolve(name: string, version?: string): ModelVersion {
    const entry = this.models.get(name);
    if (!entry)
      throw new FerryError("NOT_FOUND", "repository", `Request for unknown model: '${name}' is not found`);
    return entry.resolve(version);
  }

  /** Runs a request on the version it resolves to (the Router the pipelines are handed). */
  async infer(request: InferRequest): Promise<InferResponse> {
    // async: an unknown model rejects like any other failure (callers chain on the promise).
    return this.resolve(request.model, request.version).infer(request);
  }

  /**
   * Serving versions for the statistics extension: all of every model, all
   * of one model, or one version (errors as `resolve` for unknown names).
   */
  servingVersions(name?: string, version?: string): ModelVersion[] {
    if (name === undefined || name === "") {
      return this.knownModels().flatMap((model) => this.servingVersions(model));
    }
    if (version !== undefined && version !== "") return [this.resolve(name, version)];
    const entry = this.models.get(name);
    if (!entry)
      throw new FerryError("NOT_FOUND", "repository", `Request for unknown model: '${name}' is not found`);
    return [...entry.versions.entries()]
      .sort(([a], [b]) => a - b)
      .flatMap(([, slot]) => (slot.serving ? [slot.serving] : []));
  }

  /** The readiness verdict of a serving version. */
  versionHealth(name: string, version: string): VersionHealth | undefined {
    const serving = this.models.get(name)?.versions.get(Number(version))?.serving;
    return serving && this.dependencies.health(serving);
  }

  /** Whether the version a request would reach serves and passes its checks (the model ready probe). */
  isReady(name: string, version?: string): boolean {
    return this.dependencies.health(this.resolve(name, version)).ready;
  }

  /** The models an ensemble composes (empty for other models), for the readiness view. */
  composingModels(name: string): string[] {
    const serving = this.servingVersions(name);
    return [...new Set(serving.flatMap((version) => version.composing.map((step) => step.model)))];
  }

  /** The checks a failed load ran, if it got that far. */
  failedChecks(name: string, version: string): CheckResult[] {
    return this.models.get(name)?.versions.get(Number(version))?.checks ?? [];
  }

  /** The promotion's split of unversioned requests (empty without a manifest: the newest serving version takes them). */
  routeWeights(name: string): readonly Route[] {
    return this.models.get(name)?.routes?.routes ?? [];
  }

  /** The model's traffic split and the promotion manifest (with its history) that decided it. */
  promotion(name: string): ModelPromotionView {
    const entry = this.models.get(name);
    const serving = entry?.servingNumbers().map(String) ?? [];
    return promotionView(name, entry?.manifest, this.routeWeights(name), serving);
  }

  /** The versions the version policy selected when the model last loaded. */
  expectedVersions(name: string): number[] {
    return this.models.get(name)?.expected ?? [];
  }

  /** State of every version the manager knows for a model (empty for a model never loaded). */
  versionStatus(name: string): VersionStatus[] {
    const entry = this.models.get(name);
    if (!entry) return [];
    return entry.statuses().map((status) => {
      const serving = entry.versions.get(Number(status.version))?.serving;
      const problem = serving && this.dependencies.problem(serving);
      return problem ? { ...status, state: "UNAVAILABLE", reason: problem } : status;
    });
  }

  private entry(name: string): ModelEntry {
    let entry = this.models.get(name);
    if (!entry) {
      entry = new ModelEntry(name);
      this.models.set(name, entry);
    }
    return entry;
  }

  /**
   * Plans the model (manifest or version policy), loads the versions that
   * are new or changed while everything else keeps serving, and switches
   * only when all of them are READY: then unversioned traffic follows the
   * plan's routes and versions outside the plan drain and unload. If any
   * fails, what served before keeps serving with its routes untouched
   * (a model with nothing serving yet serves what did load, as Triton does).
   */
  private async load(
    entry: ModelEntry,
    override: LoadOverride,
    mode: LoadMode,
    listed?: ModelListing,
  ): Promise<void> {
    const { name } = entry;
    const options = override.source ? { ...this.options, source: override.source } : this.options;
    let listing: ModelListing | undefined = listed;
    let plan: ModelPlan;
    try {
      listing ??= await options.source.describe(name);
      plan = await planModel(listing, options, override.config);
      await this.dependencies.loadComposing(name, plan.config);
    } catch (error) {
      const failure = FerryError.from(error, "repository");
      entry.fingerprint = isTransient(failure) ? undefined : listing?.fingerprint;
      this.recordModelFailure(entry, listing, failure);
      throw failure;
    }
    entry.failure = undefined;
    const wasServing = [...entry.versions.values()].some((slot) => slot.serving);
    if (!wasServing) entry.expected = plan.versions;
    const failures: FerryError[] = [];
    for (const missing of plan.missing) {
      const failure = new FerryError(
        "NOT_FOUND",
        "repository",
        `version ${missing} named by ${plan.decidedBy} has no directory`,
      );
      failures.push(failure);
      const slot = entry.versions.get(missing);
      // A version whose directory vanished while it serves keeps serving until a plan retires it.
      if (slot?.serving) slot.reason = `reload failed: ${failure.detail}`;
      else entry.versions.set(missing, { state: "UNAVAILABLE", reason: failure.detail });
      this.options.onLoadFailed?.(name, String(missing), failure.detail);
    }
    const candidates = plan.versions.filter((version) => {
      const slot = entry.versions.get(version);
      return mode.force || !slot?.serving || slot.identity !== plan.identities.get(version);
    });
    await Promise.all(
      candidates.map(async (version) => {
        const pins = plan.pipelines.get(version);
        const failure =
          (pins && (await this.pins.load(entry, version, pins))) ??
          (await this.versions.loadCandidate(entry, version, plan, options));
        if (failure) failures.push(failure);
        const loaded = entry.versions.get(version)?.serving;
        if (!failure && pins && loaded) this.pins.hold(loaded, pins);
      }),
    );
    const switched = failures.length === 0 || !wasServing;
    if (switched) await this.switchTo(entry, plan, listing.manifest);
    else {
      const kept = entry.servingNumbers().join(", ");
      this.log(`model '${name}' keeps serving version(s) ${kept}: ${plan.decidedBy} did not fully load`);
    }
    entry.fingerprint = failures.some(isTransient) ? undefined : listing.fingerprint;
    if (
      failures.length > 0 &&
      (!switched || failures.length === plan.versions.length + plan.missing.length)
    ) {
      throw new FerryError(
        "INVALID_ARGUMENT",
        "repository",
        `failed to load '${name}': ${failures.map((failure) => failure.message).join("; ")}`,
      );
    }
  }

  /** The plan serves: its routes take unversioned traffic, versions outside it drain and unload. */
  private async switchTo(
    entry: ModelEntry,
    plan: ModelPlan,
    manifest: PromotionManifest | undefined,
  ): Promise<void> {
    entry.expected = plan.versions;
    entry.manifest = manifest;
    entry.lastFailureLog = undefined;
    const routes = new WeightedRoutes(plan.routes);
    if (entry.routes?.describe() !== routes.describe() && entry.routes) {
      this.log(`model '${entry.name}' routes unversioned requests ${routes.describe()} (${plan.decidedBy})`);
    }
    entry.routes = routes;
    // A version a pipeline still runs on stays until that pipeline version drains.
    const retired = entry
      .servingNumbers()
      .filter((version) => !plan.versions.includes(version) && !this.pins.isHeld(entry.name, version));
    await this.versions.unload(entry, retired);
  }

  /** A model that failed before any version could load: recorded on its entry, counted and logged once. */
  private recordModelFailure(entry: ModelEntry, listing: ModelListing | undefined, error: FerryError): void {
    const targets = entry.recordFailure(listing, error.message);
    for (const version of targets.length > 0 ? targets : [""]) {
      this.options.onLoadFailed?.(entry.name, String(version), error.message);
    }
    const kept = entry.servingNumbers();
    this.versions.logFailure(
      entry,
      kept.length > 0
        ? `model '${entry.name}' keeps serving version(s) ${kept.join(", ")}: ${error.message}`
        : `model '${entry.name}' is UNAVAILABLE: ${error.message}`,
    );
  }
}

/** Source trouble (S3 unreachable, timeouts) is retried by the next poll even if nothing changed. */
function isTransient(error: FerryError): boolean {
  // A version that loaded and failed its checks, or a backend that refused
  // it, fails the same way until something in the repository changes.
  return error.layer === "repository" && (error.code === "UNAVAILABLE" || error.code === "DEADLINE_EXCEEDED");
}
