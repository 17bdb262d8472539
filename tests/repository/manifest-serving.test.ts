import { afterAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { StageClock } from "../../src/core/stage-clock.ts";
import { modelReports } from "../../src/health/readiness.ts";
import { LocalSource } from "../../src/repository/local-source.ts";
import type { ModelManager } from "../../src/repository/model-manager.ts";
import { promote } from "../../src/repository/promotion.ts";
import { createManager } from "../support/manager.ts";
import { TestRepository } from "../support/model-repo.ts";
import { identityModel } from "../support/onnx-builder.ts";

const repos: TestRepository[] = [];
const managers: ModelManager[] = [];
afterAll(async () => {
  await Promise.all(managers.map((manager) => manager.shutdown()));
  for (const repo of repos) repo.remove();
});

function setup() {
  const repo = new TestRepository().addModel("m", {
    config: "max_batch_size: 2 version_policy { all {} }",
    versions: {
      1: identityModel("FP32", ["b", 2]),
      2: identityModel("FP32", ["b", 2]),
      3: identityModel("FP32", ["b", 2]),
    },
  });
  repos.push(repo);
  const failures: string[] = [];
  const manager = createManager(repo.root, {
    onLoadFailed: (model, version, reason) => failures.push(`${model}/${version}: ${reason}`),
  });
  managers.push(manager);
  const store = new LocalSource(repo.root);
  const poll = () => manager.loadModel("m", {}, { force: false });
  return { repo, manager, store, failures, poll };
}

const infer = (manager: ModelManager, version?: string) =>
  manager.resolve("m", version).infer({
    model: "m",
    inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 2], data: new Float32Array([1, 2]) }],
    parameters: {},
    signal: new AbortController().signal,
    timing: new StageClock(),
  });

const states = (manager: ModelManager) =>
  manager.versionStatus("m").map((status) => `${status.version}:${status.state}`);

describe("a local model with a promotion manifest", () => {
  it("serves the manifest's version, not the version policy's", async () => {
    const { manager, store, poll } = setup();
    await promote(store, "m", "2");
    await poll();
    expect(states(manager)).toEqual(["2:READY"]);
    expect(manager.expectedVersions("m")).toEqual([2]);
    expect((await infer(manager)).version).toBe("2");
  });

  it("switches to a promoted version and unloads the old one once the new one is READY", async () => {
    const { manager, store, poll } = setup();
    await promote(store, "m", "1");
    await poll();
    const inFlight = infer(manager);
    await promote(store, "m", "2");
    await poll();
    expect((await inFlight).version).toBe("1");
    expect(states(manager)).toEqual(["1:UNAVAILABLE", "2:READY"]);
    expect((await infer(manager)).version).toBe("2");
  });

  it("splits unversioned requests by the canary weights; versioned requests reach either", async () => {
    const { manager, store, poll } = setup();
    await promote(store, "m", "1");
    await promote(store, "m", "3", { weight: 25 });
    await poll();
    const versions = await Promise.all(Array.from({ length: 8 }, () => infer(manager)));
    expect(versions.filter((response) => response.version === "3")).toHaveLength(2);
    expect((await infer(manager, "1")).version).toBe("1");
    expect((await infer(manager, "3")).version).toBe("3");
  });

  it("keeps serving the old version when the new one's file does not match its checksum", async () => {
    const { repo, manager, store, failures, poll } = setup();
    await promote(store, "m", "1");
    await poll();
    await promote(store, "m", "2");
    writeFileSync(join(repo.root, "m", "2", "model.onnx"), identityModel("FP32", ["b", 2], 2));
    await expect(poll()).rejects.toThrow("checksum mismatch");
    expect(states(manager)).toEqual(["1:READY", "2:UNAVAILABLE"]);
    expect(manager.versionStatus("m")[1]?.reason).toContain(
      `${join("m", "2", "model.onnx")}: checksum mismatch`,
    );
    expect((await infer(manager)).version).toBe("1");
    expect(modelReports(manager)[0]?.ready).toBe(true);
    expect(failures.at(-1)).toContain("m/2: repository:");
  });

  it("refuses files the manifest does not pin, and a changed config.pbtxt", async () => {
    const { repo, manager, store, poll } = setup();
    await promote(store, "m", "1");
    writeFileSync(join(repo.root, "m", "1", "extra.bin"), "x");
    await expect(poll()).rejects.toThrow("has files the promotion manifest does not pin: extra.bin");
    await promote(store, "m", "1");
    writeFileSync(join(repo.root, "m", "config.pbtxt"), "max_batch_size: 1");
    await expect(manager.loadModel("m")).rejects.toThrow("config.pbtxt: checksum mismatch");
    expect(states(manager)).toEqual(["1:UNAVAILABLE"]);
  });

  it("keeps serving when the manifest itself is malformed, and says why", async () => {
    const { repo, manager, store, poll } = setup();
    await promote(store, "m", "1");
    await poll();
    writeFileSync(join(repo.root, "m", "promotion.json"), '{"schema": "ferry.promotion/v1", "model": "m"}');
    await expect(poll()).rejects.toThrow("promotion.json: revision: must be a positive integer");
    expect(states(manager)).toEqual(["1:READY"]);
    expect(manager.versionStatus("m")[0]?.reason).toContain("reload failed:");
    expect((await infer(manager)).version).toBe("1");
  });

  it("rejects a version that misses its validation: warm-up latency bound and required device", async () => {
    const { manager, store, poll } = setup();
    await promote(store, "m", "1");
    await poll();
    await promote(store, "m", "2", { validation: { max_latency_ms: 0.000001 } });
    await expect(poll()).rejects.toThrow("warm");
    await promote(store, "m", "3", { validation: { device: "gpu" } });
    await expect(poll()).rejects.toThrow("requires device gpu, but 2 of 2 instance(s) would run on cpu");
    expect(states(manager)).toEqual(["1:READY", "2:UNAVAILABLE", "3:UNAVAILABLE"]);
    expect((await infer(manager)).version).toBe("1");
  });

  it("does not reload unchanged versions when only the weights change", async () => {
    const { manager, store, poll } = setup();
    await promote(store, "m", "1");
    await promote(store, "m", "2", { weight: 10 });
    await poll();
    const before = manager.resolve("m", "1");
    await promote(store, "m", "2", { weight: 50 });
    await poll();
    expect(manager.resolve("m", "1")).toBe(before);
    const versions = await Promise.all(Array.from({ length: 10 }, () => infer(manager)));
    expect(versions.filter((response) => response.version === "2")).toHaveLength(5);
  });
});
