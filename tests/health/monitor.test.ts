import { expect, it } from "bun:test";
import type { VersionHealth } from "../../src/health/checks.ts";
import { HealthMonitor } from "../../src/health/monitor.ts";
import type { CheckedVersion } from "../../src/health/version-checks.ts";
import type { ModelManager } from "../../src/repository/model-manager.ts";

/**
 * A served version whose answers turn bad on demand: the failure injection
 * the periodic checks exist for (a GPU that starts returning NaN).
 */
function fakeVersion() {
  let value = 1;
  const version: CheckedVersion & { name: string; version: string; health: VersionHealth } = {
    name: "m",
    version: "1",
    health: {
      ready: true,
      checks: [{ name: "backend", status: "PASS", detail: "1 instance(s) on cpu", durationMs: 0 }],
      checkedAt: "",
    },
    model: {
      name: "m",
      maxBatchSize: 0,
      inputs: [
        {
          name: "X",
          datatype: "FP32",
          dims: [1],
          reshape: undefined,
          optional: false,
          labelFilename: undefined,
        },
      ],
      outputs: [
        {
          name: "Y",
          datatype: "FP32",
          dims: [1],
          reshape: undefined,
          optional: false,
          labelFilename: undefined,
        },
      ],
    },
    devices: ["cpu"],
    placementNotes: [],
    sequenceId: undefined,
    latencyBoundMs: 1000,
    syntheticInputs: undefined,
    infer: async () => ({
      model: "m",
      version: "1",
      outputs: [{ name: "Y", datatype: "FP32", shape: [1], data: new Float32Array([value]) }],
    }),
  };
  return { version, breakWith: (next: number) => (value = next) };
}

it("takes a version out of ready when its periodic checks start failing, and back when they pass", async () => {
  const { version, breakWith } = fakeVersion();
  const warnings: string[] = [];
  const manager = { servingVersions: () => [version] } as unknown as ModelManager;
  const monitor = new HealthMonitor(manager, 0, (message) => warnings.push(message));

  await monitor.checkAll();
  expect(version.health.ready).toBe(true);
  expect(version.health.checks.map((check) => check.name)).toEqual([
    "backend",
    "synthetic_inference",
    "outputs",
  ]);

  breakWith(Number.NaN);
  await monitor.checkAll();
  expect(version.health.ready).toBe(false);
  expect(version.health.checks.find((check) => check.name === "outputs")).toMatchObject({
    status: "FAIL",
    detail: "output 'Y' holds NaN at element 0",
  });
  expect(warnings).toEqual([
    "model 'm' version 1 is no longer ready: outputs: output 'Y' holds NaN at element 0",
  ]);

  breakWith(2);
  await monitor.checkAll();
  expect(version.health.ready).toBe(true);
  expect(warnings.at(-1)).toBe("model 'm' version 1 passes its readiness checks again");
});
