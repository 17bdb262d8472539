import { afterAll, describe, expect, it } from "bun:test";
import { StageClock } from "../../src/core/stage-clock.ts";
import { createManager } from "../support/manager.ts";
import { addSimple, TestRepository } from "../support/model-repo.ts";
import { identityModel } from "../support/onnx-builder.ts";

const repo = addSimple(new TestRepository())
  .addModel("versions", {
    config:
      "max_batch_size: 2 version_policy { latest { num_versions: 2 } } instance_group [{ kind: KIND_CPU count: 1 }]",
    versions: {
      1: identityModel("FP32", ["b", 2]),
      2: identityModel("FP32", ["b", 2]),
      3: identityModel("FP32", ["b", 2]),
    },
  })
  .addModel("auto", { versions: { 1: identityModel("INT8", ["b", 4]) } })
  .addModel("broken_config", { config: "max_batch: 1", versions: { 1: identityModel("FP32", ["b", 2]) } })
  .addModel("no_versions", { config: 'backend: "onnxruntime"' })
  .addModel("bad_file", { config: 'backend: "onnxruntime"', versions: { 1: new Uint8Array([1, 2, 3]) } });
afterAll(() => repo.remove());

const infer = (manager: ReturnType<typeof createManager>, model: string, version?: string) =>
  manager.resolve(model, version).infer({
    model,
    inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 2], data: new Float32Array([1, 2]) }],
    parameters: {},
    signal: new AbortController().signal,
    timing: new StageClock(),
  });

describe("ModelManager", () => {
  it("loads the versions the policy selects and serves the highest by default", async () => {
    const manager = createManager(repo.root);
    await manager.loadModel("versions");
    expect(manager.versionStatus("versions")).toEqual([
      { version: "2", state: "READY", reason: "" },
      { version: "3", state: "READY", reason: "" },
    ]);
    expect(manager.resolve("versions").version).toBe("3");
    expect(manager.resolve("versions", "2").version).toBe("2");
    expect((await infer(manager, "versions", "2")).version).toBe("2");
    await manager.shutdown();
  });

  it("completes a model without config.pbtxt from the model file", async () => {
    const manager = createManager(repo.root);
    await manager.loadModel("auto");
    const config = manager.resolve("auto").config;
    expect(config.maxBatchSize).toBe(4);
    expect(config.input[0]?.dims).toEqual([4n]);
    expect(config.schedulingChoice.case).toBe("dynamicBatching");
    await manager.shutdown();
  });

  it("refuses a model without config.pbtxt when auto-complete is off", async () => {
    const manager = createManager(repo.root, { autoComplete: false });
    await expect(manager.loadModel("auto")).rejects.toThrow("output: a model needs at least one output");
  });

  const failures: [string, RegExp][] = [
    ["broken_config", /config: .*broken_config\/config\.pbtxt:1:1: unknown field 'max_batch'/],
    ["no_versions", /has no version directories/],
    ["bad_file", /backend: onnxruntime cannot load/],
  ];
  for (const [model, reason] of failures) {
    it(`marks ${model} UNAVAILABLE with the reason`, async () => {
      const manager = createManager(repo.root);
      await expect(manager.loadModel(model)).rejects.toThrow(reason);
      const [status] = manager.versionStatus(model);
      expect(status?.state).toBe("UNAVAILABLE");
      expect(status?.reason).toMatch(reason);
      expect(() => manager.resolve(model)).toThrow(
        `Request for unknown model: '${model}' has no available versions`,
      );
    });
  }

  it("answers unknown models and versions as tritonserver does", async () => {
    const manager = createManager(repo.root);
    await manager.loadModel("versions");
    expect(() => manager.resolve("nope")).toThrow(
      "repository: Request for unknown model: 'nope' is not found",
    );
    expect(() => manager.resolve("versions", "9")).toThrow(
      "Request for unknown model: 'versions' version 9 is not found",
    );
    await manager.shutdown();
  });

  it("unloads: UNLOADING while draining, then UNAVAILABLE 'unloaded'", async () => {
    const manager = createManager(repo.root);
    await manager.loadModel("simple");
    const unloading = manager.unloadModel("simple");
    await Promise.resolve();
    await Promise.resolve();
    expect(manager.versionStatus("simple")[0]?.state).toBe("UNLOADING");
    expect(() => manager.resolve("simple", "1")).toThrow("version 1 is not at ready state");
    await unloading;
    expect(manager.versionStatus("simple")).toEqual([
      { version: "1", state: "UNAVAILABLE", reason: "unloaded" },
    ]);
    await manager.unloadModel("never_loaded");
  });

  it("keeps the serving version when a reload fails", async () => {
    const changing = addSimple(new TestRepository(), "changing");
    const manager = createManager(changing.root);
    await manager.loadModel("changing");
    changing.addModel("changing", { config: "max_batch_size: oops" });
    await expect(manager.loadModel("changing")).rejects.toThrow("expected an integer");
    const [status] = manager.versionStatus("changing");
    expect(status?.state).toBe("READY");
    expect(status?.reason).toMatch(/^reload failed: /);
    expect(manager.resolve("changing").version).toBe("1");
    await manager.shutdown();
    changing.remove();
  });
});
