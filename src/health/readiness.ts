import type { CheckResult, VersionHealth } from "./checks.ts";
import { UNLOADED, type VersionStatus } from "./version-status.ts";

/** What readiness reads of the model table; it is handed one and never reaches into the repository. */
export interface ModelStates {
  /** Models the table has tried to load, in name order. */
  knownModels(): string[];
  /** Whether strict server readiness waits for the model. */
  isRequired(name: string): boolean;
  versionStatus(name: string): VersionStatus[];
  /** The verdict of a serving version. */
  versionHealth(name: string, version: string): VersionHealth | undefined;
  /** The checks a failed load ran, if it got that far. */
  failedChecks(name: string, version: string): CheckResult[];
  /** Versions the last plan that switched selected. */
  expectedVersions(name: string): number[];
  /** The models an ensemble composes; empty for other models. */
  composingModels(name: string): string[];
}

export interface VersionReport {
  version: string;
  state: string;
  reason: string;
  ready: boolean;
  checks: CheckResult[];
  /** With a latency objective: the scheduler's view of its batching (added by the protocol layer). */
  batching?: object;
}

export interface ModelReport {
  name: string;
  ready: boolean;
  /** Whether strict server readiness waits for this model (started with it, or loaded and not unloaded since). */
  required: boolean;
  /** Versions the policy (or a manifest) says must serve. */
  expected: string[];
  /** An ensemble's composing models (it is ready only while they are); absent for other models. */
  composing_models?: string[];
  versions: VersionReport[];
}

/**
 * Per model, per version readiness: a version is ready when it is READY
 * and passes its readiness checks; a model is ready when every version it
 * is expected to serve (the last plan that switched) is, and every other
 * READY version passes its checks too.
 */
export function modelReports(manager: ModelStates): ModelReport[] {
  return manager.knownModels().map((name) => {
    const versions = manager.versionStatus(name).map((status) => {
      const health = manager.versionHealth(name, status.version);
      const ready = status.state === "READY" && (health?.ready ?? false);
      return { ...status, ready, checks: health?.checks ?? manager.failedChecks(name, status.version) };
    });
    const expected = manager.expectedVersions(name).map(String);
    // A candidate that is loading or failed while older versions keep serving
    // does not count: a rejected promotion must not take every replica out of service.
    const relevant = versions.filter(
      (version) =>
        !(version.state === "UNAVAILABLE" && version.reason === UNLOADED) &&
        (version.state === "READY" || expected.includes(version.version)),
    );
    const expectedServe = expected.every((version) =>
      versions.some((entry) => entry.version === version && entry.ready),
    );
    const composing = manager.composingModels(name);
    return {
      name,
      ...(composing.length > 0 ? { composing_models: composing } : {}),
      required: manager.isRequired(name),
      ready: relevant.length > 0 && relevant.every((version) => version.ready) && expectedServe,
      expected,
      versions,
    };
  });
}

/**
 * Model side of server readiness, as tritonserver's --strict-readiness:
 * strict = every model the server is expected to serve is ready (an
 * explicit unload, or a failed load of a model it was not serving, does
 * not count against it); not strict = only the models that are live (have
 * a serving version) must pass their checks.
 */
export function modelsReady(manager: ModelStates, strict: boolean): boolean {
  const reports = modelReports(manager);
  if (strict) return reports.every((report) => !report.required || report.ready);
  return reports.every((report) =>
    report.versions.every((version) => version.state !== "READY" || version.ready),
  );
}

/** Versions that keep the server from being ready, with why (for the start-up log). */
export function notReadyModels(
  manager: ModelStates,
): { model: string; version: string; state: string; reason: string }[] {
  return modelReports(manager).flatMap((report) =>
    report.versions
      .filter((version) => !version.ready && version.reason !== UNLOADED)
      .map((version) => ({
        model: report.name,
        version: version.version,
        state: version.state,
        reason: version.reason,
      })),
  );
}
