import { FerryError } from "../core/errors.ts";
import { HealthCheckError } from "../health/checks.ts";
import { UNLOADED } from "../health/version-status.ts";
import type { ModelVersion } from "../serving/model-version.ts";
import type { ModelEntry } from "./model-entry.ts";
import type { LoaderOptions, ModelPlan } from "./model-plan.ts";
import { loadVersion } from "./version-loader.ts";

/**
 * The life of one model's versions in the table: a candidate loads beside
 * what serves and takes its slot only once READY; a replaced or retired
 * copy drains in the background (the exit timeout can still abort it)
 * before it is freed. Failures are recorded on the slot and logged once
 * while they do not change.
 */
export class VersionLifecycle {
  /** Versions that left the table and are still draining. */
  readonly draining = new Set<ModelVersion>();

  constructor(
    private readonly log: (message: string) => void,
    private readonly onLoadFailed: LoaderOptions["onLoadFailed"],
    /** A copy finished draining and was freed (pipelines it held versions for let go of them). */
    private readonly released: (version: ModelVersion) => void,
  ) {}

  /** Loads one version beside whatever serves; a failure is recorded on its slot and returned. */
  async loadCandidate(
    entry: ModelEntry,
    version: number,
    plan: ModelPlan,
    options: LoaderOptions,
  ): Promise<FerryError | undefined> {
    const { name } = entry;
    const current = entry.versions.get(version);
    if (!current?.serving) entry.versions.set(version, { state: "LOADING", reason: "" });
    const started = performance.now();
    try {
      const loaded = await loadVersion(name, version, plan, options);
      const previous = entry.versions.get(version)?.serving;
      const pinned = plan.pins.get(version);
      entry.versions.set(version, {
        state: "READY",
        reason: "",
        serving: loaded,
        identity: plan.identities.get(version),
        ...(pinned ? { pinned } : {}),
      });
      const warmup = loaded.health.checks.find((check) => check.name === "warmup");
      const warmed = warmup
        ? `warm-up ${warmup.detail} in ${Math.round(warmup.durationMs)} ms`
        : "no warm-up";
      this.log(
        `model '${name}' version ${version} is READY (load ${Math.round(performance.now() - started)} ms, ${warmed})`,
      );
      if (previous) this.retire(previous);
      return undefined;
    } catch (error) {
      const failure = FerryError.from(error, "repository");
      const reason = failure.message;
      const checks = error instanceof HealthCheckError ? error.checks : undefined;
      if (current?.serving) entry.versions.set(version, { ...current, reason: `reload failed: ${reason}` });
      else
        entry.versions.set(
          version,
          checks ? { state: "UNAVAILABLE", reason, checks } : { state: "UNAVAILABLE", reason },
        );
      this.logFailure(entry, `model '${name}' version ${version} is UNAVAILABLE: ${reason}`);
      this.onLoadFailed?.(name, String(version), reason);
      return failure;
    }
  }

  /** A replaced copy drains in the background; the exit timeout can still abort it. */
  private retire(previous: ModelVersion): void {
    this.draining.add(previous);
    void previous.unload().finally(() => {
      this.draining.delete(previous);
      this.released(previous);
    });
  }

  /** Logs a failure unless it is the one last logged for the model (a retry of the same state). */
  logFailure(entry: ModelEntry, line: string): void {
    if (line === entry.lastFailureLog) return;
    entry.lastFailureLog = line;
    this.log(line);
  }

  async unload(entry: ModelEntry, versions: number[]): Promise<void> {
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
        this.released(serving);
        entry.versions.set(version, { state: "UNAVAILABLE", reason: UNLOADED });
        this.log(`model '${entry.name}' version ${version} unloaded`);
      }),
    );
  }
}
