import { type ModelManager, UNLOADED } from "../repository/model-manager.ts";

/**
 * Model side of server readiness, as tritonserver's --strict-readiness:
 * strict = every model the manager knows has all its versions READY
 * (versions unloaded on purpose do not count); not strict = models do not
 * decide readiness.
 */
export function modelsReady(manager: ModelManager, strict: boolean): boolean {
  if (!strict) return true;
  return manager.knownModels().every((name) =>
    manager
      .versionStatus(name)
      .filter((status) => !(status.state === "UNAVAILABLE" && status.reason === UNLOADED))
      .every((status) => status.state === "READY"),
  );
}

/** Models that keep the server from being ready, with why (for logs and a verbose probe). */
export function notReadyModels(
  manager: ModelManager,
): { model: string; version: string; state: string; reason: string }[] {
  return manager.knownModels().flatMap((model) =>
    manager
      .versionStatus(model)
      .filter((status) => status.state !== "READY" && status.reason !== UNLOADED)
      .map((status) => ({ model, ...status })),
  );
}
