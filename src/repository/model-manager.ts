import { FerryError } from "../core/errors.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";
import { type CheckResult, HealthCheckError, type VersionHealth } from "../health/checks.ts";
import type { ModelVersion } from "./model-version.ts";
import type { ModelSource } from "./source.ts";
import { type LoaderOptions, loadVersion, planModel } from "./version-loader.ts";

export type VersionState = "LOADING" | "READY" | "UNAVAILABLE" | "UNLOADING";

export interface VersionStatus {
  version: string;
  state: VersionState;
  reason: string;
}

interface VersionSlot {
  state: VersionState;
  reason: string;
  /** Present while READY (and while a replacement loads behind it). */
  serving?: ModelVersion;
  /** Readiness checks of a load that failed them. */
  checks?: CheckResult[];
}

interface ModelEntry {
  name: string;
  versions: Map<number, VersionSlot>;
  /** Why the model as a whole failed when no version could even be planned. */
  failure?: string;
  /** Versions the last successful plan selected (version policy). */
  expected: number[];
  /** Operations on one model run one after another. */
  tail: Promise<unknown>;
}

export const UNLOADED = "unloaded";

export interface LoadOverride {
  config?: ModelConfig;
  source?: ModelSource;
}

/** One row of the repository index: name only for a model never loaded. */
export interface IndexEntry {
  name: string;
  version?: string;
  state?: VersionState;
  reason?: string;
}

type Log = (message: string) => void;

/**
 * The table model → versions → serving ModelVersion, and each version's
 * state (LOADING, READY, UNAVAILABLE with a reason, UNLOADING). A load
 * builds a version completely before one assignment makes it serve; a
 * version that fails leaves what served before untouched.
 */
export class ModelManager {
  private readonly models = new Map<string, ModelEntry>();
  /** Versions that left the table and are still draining. */
  private readonly draining = new Set<ModelVersion>();

  constructor(
    private readonly options: LoaderOptions,
    private readonly log: Log = console.log,
  ) {}

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
    const rows: IndexEntry[] = [];
    for (const name of [...names].sort()) {
      const statuses = this.versionStatus(name);
      if (statuses.length === 0 && !readyOnly) rows.push({ name });
      for (const status of statuses) {
        if (readyOnly && status.state !== "READY") continue;
        rows.push(
          status.version ? { name, ...status } : { name, state: status.state, reason: status.reason },
        );
      }
    }
    return rows;
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
  loadModel(name: string, override: LoadOverride = {}): Promise<void> {
    const entry = this.entry(name);
    const run = entry.tail.then(() => this.load(entry, override));
    entry.tail = run.catch(() => undefined);
    return run;
  }

  /** Loads several models, a few at a time; failures are recorded, not thrown. */
  async loadModels(names: string[], concurrency = 4): Promise<void> {
    const queue = [...names];
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        await this.loadModel(name).catch((error: unknown) =>
          this.log(`model '${name}' failed to load: ${message(error)}`),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  }

  /** Stops serving a model; resolves when its versions drained and unloaded. Unknown models are a no-op. */
  unloadModel(name: string): Promise<void> {
    const entry = this.models.get(name);
    if (!entry) return Promise.resolve();
    const run = entry.tail.then(() => this.unloadVersions(entry, [...entry.versions.keys()]));
    entry.tail = run.catch(() => undefined);
    return run;
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.knownModels().map((name) => this.unloadModel(name)));
  }

  /** Fails every queued and running request of every version (unloading ones included). */
  abortAll(error: FerryError): void {
    for (const version of this.draining) version.abort(error);
    for (const entry of this.models.values())
      for (const slot of entry.versions.values()) slot.serving?.abort(error);
  }

  /** The version a request goes to: the given one, or the highest-numbered READY version. */
  resolve(name: string, version?: string): ModelVersion {
    const entry = this.models.get(name);
    if (!entry)
      throw new FerryError("NOT_FOUND", "repository", `Request for unknown model: '${name}' is not found`);
    if (version === undefined || version === "") {
      const ready = [...entry.versions.entries()]
        .filter(([, slot]) => slot.serving)
        .sort(([a], [b]) => b - a);
      const serving = ready[0]?.[1].serving;
      if (!serving)
        throw new FerryError(
          "NOT_FOUND",
          "repository",
          `Request for unknown model: '${name}' has no available versions`,
        );
      return serving;
    }
    const slot = /^[0-9]+$/.test(version) ? entry.versions.get(Number(version)) : undefined;
    if (!slot)
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `Request for unknown model: '${name}' version ${version} is not found`,
      );
    if (!slot.serving) {
      throw new FerryError(
        "UNAVAILABLE",
        "repository",
        `Request for unknown model: '${name}' version ${version} is not at ready state`,
      );
    }
    return slot.serving;
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
    return this.models.get(name)?.versions.get(Number(version))?.serving?.health;
  }

  /** The checks a failed load ran, if it got that far. */
  failedChecks(name: string, version: string): CheckResult[] {
    return this.models.get(name)?.versions.get(Number(version))?.checks ?? [];
  }

  /** The versions the version policy selected when the model last loaded. */
  expectedVersions(name: string): number[] {
    return this.models.get(name)?.expected ?? [];
  }

  /** State of every version the manager knows for a model (empty for a model never loaded). */
  versionStatus(name: string): VersionStatus[] {
    const entry = this.models.get(name);
    if (!entry) return [];
    if (entry.versions.size === 0 && entry.failure)
      return [{ version: "", state: "UNAVAILABLE", reason: entry.failure }];
    return [...entry.versions.entries()]
      .sort(([a], [b]) => a - b)
      .map(([version, slot]) => ({ version: String(version), state: slot.state, reason: slot.reason }));
  }

  private entry(name: string): ModelEntry {
    let entry = this.models.get(name);
    if (!entry) {
      entry = { name, versions: new Map(), tail: Promise.resolve(), expected: [] };
      this.models.set(name, entry);
    }
    return entry;
  }

  private async load(entry: ModelEntry, override: LoadOverride): Promise<void> {
    const { name } = entry;
    const options = override.source ? { ...this.options, source: override.source } : this.options;
    let plan: Awaited<ReturnType<typeof planModel>>;
    let listed: number[] = [];
    try {
      const listing = await options.source.describe(name);
      listed = listing.versions;
      plan = await planModel(listing, options, override.config);
    } catch (error) {
      this.recordModelFailure(entry, listed, error);
      throw FerryError.from(error, "repository");
    }
    entry.failure = undefined;
    entry.expected = plan.versions;
    for (const missing of plan.missing) {
      entry.versions.set(missing, {
        state: "UNAVAILABLE",
        reason: `version ${missing} named by version_policy has no directory`,
      });
    }
    const failures: string[] = [];
    await Promise.all(
      plan.versions.map(async (version) => {
        const current = entry.versions.get(version);
        if (!current?.serving) entry.versions.set(version, { state: "LOADING", reason: "" });
        const started = performance.now();
        try {
          const loaded = await loadVersion(name, version, plan, options);
          const previous = entry.versions.get(version)?.serving;
          entry.versions.set(version, { state: "READY", reason: "", serving: loaded });
          const warmup = loaded.health.checks.find((check) => check.name === "warmup");
          const warmed = warmup
            ? `warm-up ${warmup.detail} in ${Math.round(warmup.durationMs)} ms`
            : "no warm-up";
          this.log(
            `model '${name}' version ${version} is READY (load ${Math.round(performance.now() - started)} ms, ${warmed})`,
          );
          if (previous) {
            this.draining.add(previous);
            void previous.unload().finally(() => this.draining.delete(previous));
          }
        } catch (error) {
          const reason = message(error);
          failures.push(`version ${version}: ${reason}`);
          const checks = error instanceof HealthCheckError ? error.checks : undefined;
          if (current?.serving)
            entry.versions.set(version, { ...current, reason: `reload failed: ${reason}` });
          else
            entry.versions.set(
              version,
              checks ? { state: "UNAVAILABLE", reason, checks } : { state: "UNAVAILABLE", reason },
            );
          this.log(`model '${name}' version ${version} is UNAVAILABLE: ${reason}`);
        }
      }),
    );
    const retired = [...entry.versions.keys()].filter(
      (v) => !plan.versions.includes(v) && entry.versions.get(v)?.serving,
    );
    await this.unloadVersions(entry, retired);
    if (failures.length > 0 && failures.length === plan.versions.length) {
      throw new FerryError(
        "INVALID_ARGUMENT",
        "repository",
        `failed to load '${name}': ${failures.join("; ")}`,
      );
    }
  }

  /**
   * A model whose listing or config failed: serving versions keep serving
   * with the reason attached; otherwise the newest listed version (or the
   * model itself, when it has none) shows the reason.
   */
  private recordModelFailure(entry: ModelEntry, listed: number[], error: unknown): void {
    const reason = message(error);
    const serving = [...entry.versions.values()].filter((slot) => slot.serving);
    for (const slot of serving) slot.reason = `reload failed: ${reason}`;
    if (serving.length === 0) {
      for (const slot of entry.versions.values()) Object.assign(slot, { state: "UNAVAILABLE", reason });
      const newest = listed.at(-1);
      if (newest !== undefined) entry.versions.set(newest, { state: "UNAVAILABLE", reason });
      entry.failure = reason;
    }
    this.log(`model '${entry.name}' is UNAVAILABLE: ${reason}`);
  }

  private async unloadVersions(entry: ModelEntry, versions: number[]): Promise<void> {
    await Promise.all(
      versions.map(async (version) => {
        const slot = entry.versions.get(version);
        if (!slot?.serving) {
          if (slot && slot.state !== "UNAVAILABLE")
            Object.assign(slot, { state: "UNAVAILABLE", reason: UNLOADED });
          return;
        }
        const serving = slot.serving;
        entry.versions.set(version, { state: "UNLOADING", reason: "" });
        this.draining.add(serving);
        await serving.unload();
        this.draining.delete(serving);
        entry.versions.set(version, { state: "UNAVAILABLE", reason: UNLOADED });
        this.log(`model '${entry.name}' version ${version} unloaded`);
      }),
    );
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
