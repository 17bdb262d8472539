import { FerryError } from "../core/errors.ts";
import type { CheckResult } from "../health/checks.ts";
import type { VersionState, VersionStatus } from "../health/version-status.ts";
import type { ModelVersion } from "../serving/model-version.ts";
import type { PromotionManifest } from "./manifest.ts";
import type { WeightedRoutes } from "./routing.ts";
import type { ModelListing, PinnedFiles } from "./source.ts";

export interface VersionSlot {
  state: VersionState;
  reason: string;
  /** Present while READY (and while a replacement loads behind it). */
  serving?: ModelVersion;
  /** Readiness checks of a load that failed them. */
  checks?: CheckResult[];
  /** What the serving copy was loaded from (plan identity); a poll reloads it only when this changes. */
  identity?: string;
  /** The files a manifest pinned for the serving copy, if one did. */
  pinned?: PinnedFiles;
}

/** One model in the manager's table: its versions' slots, routes, and the queue of operations on it. */
export class ModelEntry {
  readonly versions = new Map<number, VersionSlot>();
  /** Why the model as a whole failed when no version could even be planned. */
  failure?: string;
  /** Versions the last plan that switched selected (manifest or version policy). */
  expected: number[] = [];
  /** How unversioned requests split across serving versions. */
  routes?: WeightedRoutes;
  /** The promotion manifest the serving plan came from (absent under the version policy). */
  manifest?: PromotionManifest;
  /** The listing fingerprint of the last load that needs no retry (poll mode skips it while unchanged). */
  fingerprint?: string;
  /** The failure last logged for this model: retries of an unchanged failure are not logged again. */
  lastFailureLog?: string;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly name: string) {}

  /** Runs operations on this model one after another; a failure does not block the next. */
  serialize<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.tail.then(operation);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Numbers of the versions that serve, ascending. */
  servingNumbers(): number[] {
    return [...this.versions.entries()]
      .filter(([, slot]) => slot.serving)
      .map(([version]) => version)
      .sort((a, b) => a - b);
  }

  /**
   * The version a request goes to: the one it names, or — naming none — the
   * routes' pick among serving versions, else the newest serving.
   */
  resolve(version: string | undefined): ModelVersion {
    const { name } = this;
    if (version === undefined || version === "") {
      const servingOf = (candidate: number) => this.versions.get(candidate)?.serving;
      const routed = this.routes?.pick((candidate) => servingOf(candidate) !== undefined);
      const serving = servingOf(routed ?? this.servingNumbers().at(-1) ?? Number.NaN);
      if (!serving) {
        throw new FerryError(
          "NOT_FOUND",
          "repository",
          `Request for unknown model: '${name}' has no available versions`,
        );
      }
      return serving;
    }
    const slot = /^[0-9]+$/.test(version) ? this.versions.get(Number(version)) : undefined;
    if (!slot) {
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `Request for unknown model: '${name}' version ${version} is not found`,
      );
    }
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
   * A listing, manifest, config or pinned file failed before any version
   * could load: serving versions keep serving with the reason attached; the
   * versions the manifest names (else the newest listed one) show it; with
   * nothing serving, the model itself does. Returns those versions.
   */
  recordFailure(listing: ModelListing | undefined, reason: string): number[] {
    const named = listing?.manifest?.serving.map((served) => Number(served.version));
    const newest = listing?.versions.at(-1);
    const targets = named ?? (newest === undefined ? [] : [newest]);
    const serving = [...this.versions.values()].filter((slot) => slot.serving);
    for (const slot of serving) slot.reason = `reload failed: ${reason}`;
    if (serving.length === 0) {
      for (const slot of this.versions.values()) Object.assign(slot, { state: "UNAVAILABLE", reason });
      this.failure = reason;
    }
    for (const version of targets) {
      if (!this.versions.get(version)?.serving) this.versions.set(version, { state: "UNAVAILABLE", reason });
    }
    return targets;
  }

  statuses(): VersionStatus[] {
    if (this.versions.size === 0 && this.failure)
      return [{ version: "", state: "UNAVAILABLE", reason: this.failure }];
    return [...this.versions.entries()]
      .sort(([a], [b]) => a - b)
      .map(([version, slot]) => ({ version: String(version), state: slot.state, reason: slot.reason }));
  }
}

/** One row of the repository index: name only for a model never loaded. */
export interface IndexEntry {
  name: string;
  version?: string;
  state?: VersionState;
  reason?: string;
}

/** The repository index: a row per known version, the name alone for a model never loaded. */
export function indexRows(
  names: string[],
  statusOf: (name: string) => VersionStatus[],
  readyOnly: boolean,
): IndexEntry[] {
  const rows: IndexEntry[] = [];
  for (const name of names) {
    const statuses = statusOf(name);
    if (statuses.length === 0 && !readyOnly) rows.push({ name });
    for (const status of statuses) {
      if (readyOnly && status.state !== "READY") continue;
      rows.push(status.version ? { name, ...status } : { name, state: status.state, reason: status.reason });
    }
  }
  return rows;
}
