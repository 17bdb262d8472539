import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArtifactCache } from "../../../src/repository/artifact-cache.ts";
import { sha256Hex } from "../../../src/repository/digest.ts";
import { promote, rollback } from "../../../src/repository/promotion.ts";
import { DEFAULT_S3_SETTINGS, type S3Settings } from "../../../src/repository/s3/s3-settings.ts";
import { S3Source } from "../../../src/repository/s3/s3-source.ts";
import { TestRepository } from "../../support/model-repo.ts";
import { identityModel } from "../../support/onnx-builder.ts";
import { freePort } from "../../support/ports.ts";
import { S3Proxy, S3rver } from "../../support/s3rver.ts";

const s3 = new S3rver();
let proxy: S3Proxy;
const temp = mkdtempSync(join(tmpdir(), "ferry-s3-source-"));
const sources: S3Source[] = [];
const modelV1 = identityModel("FP32", ["b", 2]);
const modelV2 = identityModel("FP32", ["b", 2], 2);

beforeAll(async () => {
  await s3.start();
  proxy = new S3Proxy(s3);
  const repo = new TestRepository().addModel("m", {
    config: "max_batch_size: 2",
    versions: { 1: modelV1, 2: modelV2 },
    extra: { "labels.txt": "a\nb", "2/extra/weights.bin": new Uint8Array(5 * 1024 * 1024) },
  });
  await s3.upload(repo.root, "repo/");
  repo.remove();
});

afterAll(async () => {
  for (const source of sources) source.close();
  proxy.stop();
  await s3.remove();
  rmSync(temp, { recursive: true, force: true });
});

let caches = 0;
function source(
  options: { url?: string; cacheDir?: string; settings?: Partial<S3Settings>; log?: string[] } = {},
) {
  const cache = new ArtifactCache(options.cacheDir ?? join(temp, `cache-${caches++}`), (line) =>
    options.log?.push(line),
  );
  const created = new S3Source(
    options.url ?? proxy.url("repo"),
    { ...DEFAULT_S3_SETTINGS, ...options.settings },
    cache,
  );
  sources.push(created);
  return { source: created, cache };
}

describe("S3Source", () => {
  it("lists models and describes versions, config and fingerprint", async () => {
    const { source: repo } = source();
    expect(await repo.list()).toEqual(["m"]);
    const listing = await repo.describe("m");
    expect(listing.versions).toEqual([1, 2]);
    expect(listing.configText).toBe("max_batch_size: 2");
    expect(listing.configSource).toBe("s3://models/repo/m/config.pbtxt");
    expect(listing.manifest).toBeUndefined();
    expect((await repo.describe("m")).fingerprint).toBe(listing.fingerprint);
    await expect(repo.describe("nope")).rejects.toThrow("model 'nope' is not in repository s3://");
    await expect(repo.describe("../x")).rejects.toThrow("invalid model name '../x'");
  });

  it("re-reads config.pbtxt only when its ETag changed", async () => {
    const { source: repo } = source();
    await repo.describe("m");
    const before = proxy.count("GET", "m/config.pbtxt");
    await repo.describe("m");
    expect(proxy.count("GET", "m/config.pbtxt")).toBe(before);
  });

  it("downloads a version into the cache once, verified, and logs progress of large files", async () => {
    const cacheDir = join(temp, "shared-cache");
    const log: string[] = [];
    const { source: first, cache } = source({ cacheDir, log });
    const gets = () => proxy.count("GET", "/m/2/");
    const before = gets();
    const [a, b] = await Promise.all([first.materialize("m", "2"), first.materialize("m", "2")]);
    expect(a).toEqual(b);
    expect(a.files).toEqual(["extra/weights.bin", "model.onnx"]);
    expect(readFileSync(join(a.path, "model.onnx"))).toEqual(Buffer.from(modelV2));
    expect(cache.downloads).toBe(2);
    expect(gets() - before).toBe(2);
    expect(
      log.some((line) => /^downloaded s3:\/\/models\/repo\/m\/2\/extra\/weights\.bin: 5\.2 MB/.test(line)),
    ).toBe(true);

    const { source: second, cache: sameDir } = source({ cacheDir });
    const again = await second.materialize("m", "2");
    expect(again.path).toBe(a.path);
    expect(sameDir.downloads).toBe(0);
    expect(gets() - before).toBe(2);
  });

  it("checks pinned files and leaves nothing in the cache when one does not match", async () => {
    const { source: repo, cache } = source();
    const pinned = { "1/model.onnx": { sha256: sha256Hex(modelV1), size: modelV1.byteLength } };
    const good = await repo.materialize("m", "1", pinned);
    expect(good.files).toEqual(["model.onnx"]);
    const wrong = { "1/model.onnx": { sha256: "0".repeat(64), size: modelV1.byteLength } };
    const { source: fresh, cache: freshCache } = source();
    await expect(fresh.materialize("m", "1", wrong)).rejects.toThrow(
      "s3://models/repo/m/1/model.onnx: checksum mismatch",
    );
    expect(readdirSync(join(freshCache.dir, "tmp"))).toEqual([]);
    expect(() => readdirSync(join(freshCache.dir, "blobs"))).toThrow();
    await expect(repo.materialize("m", "1", { "1/missing.onnx": pinned["1/model.onnx"] })).rejects.toThrow(
      "s3://models/repo/m/1/missing.onnx: pinned by the promotion manifest but missing",
    );
    expect(cache.downloads).toBe(1);
  });

  it("reads model-level files and refuses paths outside the model", async () => {
    const { source: repo } = source();
    expect(new TextDecoder().decode(await repo.readModelFile("m", "labels.txt"))).toBe("a\nb");
    expect(await repo.readModelFile("m", "nope.txt")).toBeUndefined();
    await expect(repo.readModelFile("m", "../secrets")).rejects.toThrow("'../secrets' is outside model 'm'");
  });

  it("goes through --s3-proxy when set", async () => {
    const forward = new S3Proxy(s3);
    try {
      const { source: repo } = source({ url: s3.url("repo"), settings: { proxy: forward.endpoint } });
      expect(await repo.list()).toEqual(["m"]);
      expect(forward.seen.length).toBeGreaterThan(0);
    } finally {
      forward.stop();
    }
  });
});

describe("S3Source errors name what failed", () => {
  it("an unreachable endpoint", async () => {
    const port = freePort();
    const { source: repo } = source({
      url: `s3://127.0.0.1:${port}/models/repo`,
      settings: { maxAttempts: 1 },
    });
    await expect(repo.list()).rejects.toThrow(
      `repository: cannot list s3://127.0.0.1:${port}/models/repo: cannot reach S3 endpoint http://127.0.0.1:${port} (from the repository URL)`,
    );
  });

  it("an unreachable proxy", async () => {
    const port = freePort();
    const { source: repo } = source({
      url: s3.url("repo"),
      settings: { proxy: `http://127.0.0.1:${port}`, maxAttempts: 1 },
    });
    await expect(repo.list()).rejects.toThrow(`through proxy http://127.0.0.1:${port} (--s3-proxy)`);
  });

  it("a slow endpoint", async () => {
    const slow = new S3Proxy(s3);
    slow.delayMs = 1500;
    try {
      const { source: repo } = source({
        url: slow.url("repo"),
        settings: { timeoutMs: 200, maxAttempts: 1 },
      });
      await expect(repo.list()).rejects.toThrow("did not answer within 200 ms (--s3-timeout-ms)");
    } finally {
      slow.stop();
    }
  });

  it("a missing bucket and wrong credentials", async () => {
    const { source: missing } = source({
      url: `s3://127.0.0.1:${s3.port}/nobucket/x`,
      settings: { maxAttempts: 1 },
    });
    await expect(missing.list()).rejects.toThrow(
      `bucket 'nobucket' does not exist at http://127.0.0.1:${s3.port}`,
    );
    const saved = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = "WRONG";
    try {
      const { source: denied } = source({ url: s3.url("repo"), settings: { maxAttempts: 1 } });
      await expect(denied.list()).rejects.toThrow("access denied to s3://127.0.0.1");
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved;
    }
  });
});

describe("promotion manifests in S3", () => {
  it("promote pins checksums from the objects and sends the write condition", async () => {
    const { source: repo } = source();
    const first = proxy.seen.length;
    const manifest = await promote(repo, "m", "1", { by: "ci" });
    expect(manifest.serving[0]?.files["1/model.onnx"]).toEqual({
      sha256: sha256Hex(modelV1),
      size: modelV1.byteLength,
    });
    expect(Object.keys(manifest.serving[0]?.files ?? {}).sort()).toEqual([
      "1/model.onnx",
      "config.pbtxt",
      "labels.txt",
    ]);
    const puts = proxy.seen.slice(first).filter((request) => request.method === "PUT");
    expect(puts.map((request) => request.headers["if-none-match"])).toEqual(["*"]);
    const etag = await s3.etag("repo/m/promotion.json");
    await promote(repo, "m", "2", { weight: 10 });
    const second = proxy.seen.filter((request) => request.method === "PUT").at(-1);
    expect(second?.headers["if-match"]).toBe(etag);
    expect((await repo.describe("m")).manifest?.serving.map((entry) => entry.weight)).toEqual([90, 10]);
    await rollback(repo, "m");
    expect((await repo.readManifest("m")).manifest?.serving.map((entry) => entry.version)).toEqual(["1"]);
  });

  it("of two concurrent promoters exactly one wins where the store enforces the condition", async () => {
    const strict = new S3Proxy(s3);
    strict.enforceConditions = true;
    try {
      const { source: a } = source({ url: strict.url("repo") });
      const { source: b } = source({ url: strict.url("repo") });
      const results = await Promise.allSettled([
        promote(a, "m", "1", { by: "a" }),
        promote(b, "m", "2", { by: "b" }),
      ]);
      expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
      const lost = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
      expect(String(lost.reason)).toContain("promotion conflict on s3://models/repo/m/promotion.json");
      const { manifest } = await a.readManifest("m");
      expect(manifest?.history.at(-1)?.revision).toBe((manifest?.revision ?? 0) - 1);
    } finally {
      strict.stop();
    }
  });
});
