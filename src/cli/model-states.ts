import type { ModelVersionState } from "../metrics/model-state-metrics.ts";
import type { ModelManager } from "../repository/model-manager.ts";

/** Every known model version's state, readiness and share of traffic, for the model-state metrics. */
export function modelVersionStates(manager: ModelManager): ModelVersionState[] {
  return manager.knownModels().flatMap((model) => {
    const routes = manager.routeWeights(model);
    const serving = manager.servingVersions(model).map((version) => version.version);
    // Without a manifest, unversioned requests go to the newest serving version.
    const weights = new Map<string, number>(
      routes.length > 0
        ? routes.map((route) => [String(route.version), route.weight])
        : serving.length > 0
          ? [[serving.at(-1) as string, 100]]
          : [],
    );
    return manager.versionStatus(model).map(({ version, state }) => {
      const entry: ModelVersionState = {
        model,
        version,
        state,
        ready: state === "READY" && manager.versionHealth(model, version)?.ready === true,
      };
      const weight = weights.get(version);
      if (weight !== undefined) entry.weightPercent = weight;
      return entry;
    });
  });
}
