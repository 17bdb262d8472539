import { afterAll, describe, expect, it } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalSource } from "../../src/repository/local-source.ts";
import { TestRepository } from "../support/model-repo.ts";

const repo = new TestRepository();
mkdirSync(join(repo.root, "m", "1"), { recursive: true });
mkdirSync(join(repo.root, "m", "10"), { recursive: true });
mkdirSync(join(repo.root, "m", "007"), { recursive: true });
mkdirSync(join(repo.root, "m", "latest"), { recursive: true });
writeFileSync(join(repo.root, "m", "config.pbtxt"), 'name: "m"');
writeFileSync(join(repo.root, "m", "labels.txt"), "a\nb");
writeFileSync(join(repo.root, "m", "1", "model.onnx"), "x");
mkdirSync(join(repo.root, ".hidden"));
writeFileSync(join(repo.root, "README.md"), "not a model");
const source = new LocalSource(repo.root);
afterAll(() => repo.remove());

describe("LocalSource", () => {
  it("lists model directories only", async () => {
    expect(await source.list()).toEqual(["m"]);
  });

  it("describes numeric version directories and the config text", async () => {
    const listing = await source.describe("m");
    expect(listing.versions).toEqual([1, 10]);
    expect(listing.configText).toBe('name: "m"');
    expect(listing.configSource).toBe(join(repo.root, "m", "config.pbtxt"));
  });

  it("lists a version's files", async () => {
    expect(await source.materialize("m", "1")).toEqual({
      path: join(repo.root, "m", "1"),
      files: ["model.onnx"],
    });
  });

  it("reads files beside the config but never outside the model", async () => {
    expect(new TextDecoder().decode(await source.readModelFile("m", "labels.txt"))).toBe("a\nb");
    expect(await source.readModelFile("m", "missing.txt")).toBeUndefined();
    await expect(source.readModelFile("m", "../README.md")).rejects.toThrow("is outside model 'm'");
  });

  it("refuses model names that would leave the repository", async () => {
    await expect(source.describe("../etc")).rejects.toThrow("invalid model name");
    await expect(source.describe("nope")).rejects.toThrow("model 'nope' is not in repository");
  });
});
