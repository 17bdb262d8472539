import { type ModelManager, UNLOADED } from "../repository/model-manager.ts";
import type { CheckResult } from "./checks.ts";

export interface VersionReport {
  version: string;
  state: string;
  reason: string;
  ready: boolean;
  checks: CheckResult[];
}

export interface ModelReport {
  name: string;
  ready: boolean;
  /** Whether strict server readiness waits for this model (started with it, or loaded and not unloaded since). */
  required: boolean;
  /** Versions the policy (or a manifest) says must serve. */
  expected: string[];
  versions: VersionReport[];
}

/**
 * Per model, per version readiness: a version is ready when it is READY
 * and passes its readiness checks; a model is ready when every version it
 * is expected to serve (the last plan that switched) is, and every other
 * READY version passes its checks too.
 */
export function modelReports(manager: ModelManager): ModelReport[] {
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
    return {
      name,
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
export function modelsReady(manager: ModelManager, strict: boolean): boolean {
  const reports = modelReports(manager);
  if (strict) return reports.every((report) => !report.required || report.ready);
  return reports.every((report) =>
    report.versions.every((version) => version.state !== "READY" || version.ready),
  );
}

/** Versions that keep the server from being ready, with why (for the start-up log). */
export function notReadyModels(
  manager: ModelManager,
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
