import { expect, it } from "bun:test";
import { ComputationError, FerryError } from "../../src/core/errors.ts";
import type { VersionHealth } from "../../src/health/checks.ts";
import type { GoldenRequest } from "../../src/health/golden.ts";
import { HealthMonitor } from "../../src/health/monitor.ts";
import type { CheckedVersion } from "../../src/health/version-checks.ts";

/**
 * A served version whose answers turn bad on demand: the failure injection
 * the periodic checks exist for (a GPU that starts returning NaN).
 */
function fakeVersion(
  options: { invented?: boolean; fails?: () => Error | undefined; golden?: GoldenRequest[] } = {},
) {
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
    syntheticInputs: options.invented
      ? undefined
      : [{ name: "X", datatype: "FP32", shape: [1], data: new Float32Array([1]) }],
    golden: options.golden ?? [],
    infer: async () => {
      const failure = options.fails?.();
      if (failure) throw failure;
      return {
        model: "m",
        version: "1",
        outputs: [{ name: "Y", datatype: "FP32", shape: [1], data: new Float32Array([value]) }],
      };
    },
  };
  return { version, breakWith: (next: number) => (value = next) };
}

it("takes a version out of ready when its periodic checks start failing, and back when they pass", async () => {
  const { version, breakWith } = fakeVersion();
  const warnings: string[] = [];
  const monitor = new HealthMonitor(
    () => [version],
    0,
    (message) => warnings.push(message),
  );

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

it("keeps a version ready when only checks on invented inputs fail, and shows them as WARN with a hint", async () => {
  let failure: Error | undefined;
  const { version, breakWith } = fakeVersion({ invented: true, fails: () => failure });
  const warnings: string[] = [];
  const monitor = new HealthMonitor(
    () => [version],
    0,
    (message) => warnings.push(message),
  );

  breakWith(Number.NaN);
  await monitor.checkAll();
  expect(version.health.ready).toBe(true);
  const outputs = version.health.checks.find((check) => check.name === "outputs");
  expect(outputs?.status).toBe("WARN");
  expect(outputs?.detail).toStartWith("output 'Y' holds NaN at element 0 — on invented inputs");
  expect(outputs?.detail).toContain("add model_warmup");

  failure = new ComputationError("INTERNAL", "backend", "onnxruntime failed in m_0: stoll");
  await monitor.checkAll();
  expect(version.health.ready).toBe(true);
  expect(version.health.checks.map((check) => [check.name, check.status])).toEqual([
    ["backend", "PASS"],
    ["synthetic_inference", "WARN"],
    ["outputs", "SKIP"],
  ]);

  // An instance that cannot run at all is not about the data: that still fails.
  failure = new FerryError("UNAVAILABLE", "backend", "instance m_0 is closed");
  await monitor.checkAll();
  expect(version.health.ready).toBe(false);
  expect(warnings).toEqual([
    "model 'm' version 1 is no longer ready: synthetic_inference: backend: instance m_0 is closed; outputs: no synthetic answer to check",
  ]);
});

it("re-runs golden requests and fails the version with the difference when an answer drifts", async () => {
  const golden: GoldenRequest[] = [
    {
      name: "one",
      inputs: [{ name: "X", datatype: "FP32", shape: [1], data: new Float32Array([1]) }],
      parameters: {},
      outputs: [{ name: "Y", shape: [1], data: [1], tolerance: 0.01, relativeTolerance: 0 }],
    },
  ];
  const { version, breakWith } = fakeVersion({ golden });
  const warnings: string[] = [];
  const monitor = new HealthMonitor(
    () => [version],
    0,
    (message) => warnings.push(message),
  );
  await monitor.checkAll();
  expect(version.health.checks.find((check) => check.name === "golden")).toMatchObject({
    status: "PASS",
    detail: "1 golden request(s), 1 run(s) each: every output as expected",
  });
  breakWith(1.5);
  await monitor.checkAll();
  expect(version.health.ready).toBe(false);
  expect(version.health.checks.find((check) => check.name === "golden")).toMatchObject({
    status: "FAIL",
    detail:
      "golden request 'one': output 'Y' element 0: got 1.5, expected 1 (differs by 0.500, tolerance 0.0100)",
  });
});
