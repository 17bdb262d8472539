import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../src/repository/digest.ts";
import { LocalSource } from "../../src/repository/local-source.ts";
import { promote, rollback, splitRemainder } from "../../src/repository/promotion.ts";
import { TestRepository } from "../support/model-repo.ts";
import { identityModel } from "../support/onnx-builder.ts";

const repos: TestRepository[] = [];
afterAll(() => {
  for (const repo of repos) repo.remove();
});

function repository() {
  const repo = new TestRepository().addModel("m", {
    config: "max_batch_size: 2",
    versions: {
      1: identityModel("FP32", ["b", 2]),
      2: identityModel("FP32", ["b", 2]),
      3: identityModel("FP32", ["b", 2]),
    },
    extra: { "labels.txt": "a\nb" },
  });
  repos.push(repo);
  return { repo, store: new LocalSource(repo.root) };
}

const now = new Date("2026-11-25T12:00:00Z");

describe("promote", () => {
  it("pins config, the version's files and model-level files, nothing of other versions", async () => {
    const { repo, store } = repository();
    const manifest = await promote(store, "m", "2", { by: "alice", now });
    const model = readFileSync(join(repo.root, "m", "2", "model.onnx"));
    expect(manifest).toMatchObject({
      schema: "ferry.promotion/v1",
      model: "m",
      revision: 1,
      promoted_by: "alice",
    });
    expect(manifest.promoted_at).toBe("2026-11-25T12:00:00.000Z");
    expect(Object.keys(manifest.serving[0]?.files ?? {}).sort()).toEqual([
      "2/model.onnx",
      "config.pbtxt",
      "labels.txt",
    ]);
    expect(manifest.serving[0]?.files["2/model.onnx"]).toEqual({
      sha256: sha256Hex(model),
      size: model.byteLength,
    });
    expect((await store.readManifest("m")).manifest).toEqual(manifest);
  });

  it("adds a canary beside the serving version and keeps history for rollback", async () => {
    const { store } = repository();
    await promote(store, "m", "1", { by: "alice", now });
    const canary = await promote(store, "m", "2", {
      weight: 10,
      by: "bob",
      now,
      validation: { max_latency_ms: 20 },
    });
    expect(canary.revision).toBe(2);
    expect(canary.serving.map((entry) => [entry.version, entry.weight])).toEqual([
      ["1", 90],
      ["2", 10],
    ]);
    expect(canary.serving[1]?.validation).toEqual({ max_latency_ms: 20 });
    expect(canary.history.map((state) => state.revision)).toEqual([1]);
    const wider = await promote(store, "m", "3", { weight: 20, by: "bob", now });
    expect(wider.serving.map((entry) => [entry.version, entry.weight])).toEqual([
      ["1", 72],
      ["2", 8],
      ["3", 20],
    ]);
  });

  it("refuses a canary with nothing else serving, bad weights and unknown versions", async () => {
    const { store } = repository();
    await expect(promote(store, "m", "1", { weight: 10 })).rejects.toThrow(
      "needs another version serving the rest",
    );
    await expect(promote(store, "m", "1", { weight: 0 })).rejects.toThrow(
      "--weight must be an integer from 1 to 100",
    );
    await expect(promote(store, "m", "9")).rejects.toThrow("model 'm' has no version 9");
    await expect(promote(store, "../m", "1")).rejects.toThrow("invalid model name");
  });

  it("lets only one of two promoters that read the same manifest win", async () => {
    const { store } = repository();
    await promote(store, "m", "1", { now });
    const { manifest, etag } = await store.readManifest("m");
    if (!manifest) throw new Error("no manifest");
    await store.writeManifest("m", { ...manifest, revision: 2 }, etag);
    await expect(store.writeManifest("m", { ...manifest, revision: 2 }, etag)).rejects.toThrow(
      "promotion conflict",
    );
    const results = await Promise.allSettled([promote(store, "m", "2"), promote(store, "m", "3")]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    expect(
      String((results.find((result) => result.status === "rejected") as PromiseRejectedResult).reason),
    ).toContain("promotion conflict");
  });
});

describe("rollback", () => {
  it("returns to the previous state as a new revision; a second rollback undoes it", async () => {
    const { store } = repository();
    await promote(store, "m", "1", { now });
    await promote(store, "m", "2", { now });
    const back = await rollback(store, "m", { by: "carol", now });
    expect(back).toMatchObject({ revision: 3, promoted_by: "carol", note: "rollback to revision 1" });
    expect(back.serving.map((entry) => entry.version)).toEqual(["1"]);
    const again = await rollback(store, "m", { now });
    expect(again.serving.map((entry) => entry.version)).toEqual(["2"]);
    const chosen = await rollback(store, "m", { toRevision: 1, now });
    expect(chosen.serving.map((entry) => entry.version)).toEqual(["1"]);
    await expect(rollback(store, "m", { toRevision: 42 })).rejects.toThrow(
      "has no revision 42 in its history",
    );
  });

  it("explains when there is nothing to roll back to", async () => {
    const { store, repo } = repository();
    await expect(rollback(store, "m")).rejects.toThrow("model 'm' has no promotion manifest");
    await promote(store, "m", "1", { now });
    await expect(rollback(store, "m")).rejects.toThrow("no earlier revision to roll back to");
    writeFileSync(join(repo.root, "m", "promotion.json"), "{}");
    await expect(rollback(store, "m")).rejects.toThrow("promotion.json: schema");
  });
});

describe("splitRemainder", () => {
  it("splits into integers that add up exactly", () => {
    expect(splitRemainder(90, [1, 1, 1])).toEqual([30, 30, 30]);
    expect(splitRemainder(80, [90, 10])).toEqual([72, 8]);
    expect(splitRemainder(10, [1, 1, 1])).toEqual([4, 3, 3]);
  });
});
