import { describe, expect, it } from "bun:test";
import { modelVersionStates } from "../../src/cli/model-states.ts";
import type { ModelManager } from "../../src/repository/model-manager.ts";

/** A manager with model 'm': versions 2 (READY) and 3 (READY but failing its checks), 4 LOADING. */
function manager(routes: { version: number; weight: number }[]): ModelManager {
  return {
    knownModels: () => ["m"],
    routeWeights: () => routes,
    servingVersions: () => [{ version: "2" }, { version: "3" }],
    versionStatus: () => [
      { version: "2", state: "READY", reason: "" },
      { version: "3", state: "READY", reason: "" },
      { version: "4", state: "LOADING", reason: "" },
    ],
    versionHealth: (_: string, version: string) => ({ ready: version === "2" }),
  } as unknown as ModelManager;
}

describe("model version states for the metrics", () => {
  it("gives each version its state, readiness and the promotion's traffic share", () => {
    expect(
      modelVersionStates(
        manager([
          { version: 2, weight: 90 },
          { version: 3, weight: 10 },
        ]),
      ),
    ).toEqual([
      { model: "m", version: "2", state: "READY", ready: true, weightPercent: 90 },
      { model: "m", version: "3", state: "READY", ready: false, weightPercent: 10 },
      { model: "m", version: "4", state: "LOADING", ready: false },
    ]);
  });

  it("without a manifest, gives all unversioned traffic to the newest serving version", () => {
    const states = modelVersionStates(manager([]));
    expect(states.map((state) => state.weightPercent)).toEqual([undefined, 100, undefined]);
  });
});
