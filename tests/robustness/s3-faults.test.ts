import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPromote } from "../../src/cli/promote.ts";
import type { Logger } from "../../src/core/log.ts";
import { ArtifactCache } from "../../src/repository/artifact-cache.ts";
import { DEFAULT_S3_SETTINGS, type S3Settings } from "../../src/repository/s3/s3-settings.ts";
import { S3Source } from "../../src/repository/s3/s3-source.ts";
import { TestRepository } from "../support/model-repo.ts";
import { identityModel } from "../support/onnx-builder.ts";
import { S3FaultProxy } from "../support/s3-fault-proxy.ts";
import { S3rver } from "../support/s3rver.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";
import { until } from "../support/until.ts";

const s3 = new S3rver();
let proxy: S3FaultProxy;
const temp = mkdtempSync(join(tmpdir(), "ferry-s3-faults-"));
const sources: S3Source[] = [];
const servers: TestServer[] = [];
let models = 0;

/** Identity models with distinct bytes each: the artifact cache (shared by the test servers) never has them. */
const freshModel = () => identityModel("FP32", [`batch${models++}`, 2]);

/** Uploads model `m` (versions 1-3) under `prefix` and promotes version 1. */
async function seed(prefix: string): Promise<void> {
  const repo = new TestRepository().addModel("m", {
    config: "max_batch_size: 2",
    versions: { 1: freshModel(), 2: freshModel(), 3: freshModel() },
  });
  await s3.upload(repo.root, prefix);
  repo.remove();
  await promoteTo(prefix, "1");
}

async function promoteTo(prefix: string, version: string): Promise<void> {
  const output = { out: () => {}, err: (text: string) => console.error(text) };
  expect(await runPromote(["m", version, `--repository=${s3.url(prefix)}`, "--by=test"], output)).toBe(0);
}

function source(settings: Partial<S3Settings>): S3Source {
  const cache = new ArtifactCache(join(temp, `cache-${sources.length}`), () => {});
  const created = new S3Source(
    proxy.url("src/"),
    { ...DEFAULT_S3_SETTINGS, maxAttempts: 1, ...settings },
    cache,
  );
  sources.push(created);
  return created;
}

/** A poll-mode server on `prefix` through the fault proxy, with short S3 deadlines. */
async function serve(prefix: string, lines: string[], flags: string[] = []): Promise<TestServer> {
  const add = (line: string) => lines.push(line);
  const log: Logger = { info: add, warn: add, error: add, verbose: () => {} };
  const server = await startTestServer(
    proxy.url(prefix),
    [
      "--model-control-mode=poll",
      "--repository-poll-secs=1",
      "--s3-timeout-ms=2000",
      "--s3-idle-timeout-ms=1000",
      "--s3-max-attempts=1",
      ...flags,
    ],
    {},
    log,
  );
  servers.push(server);
  return server;
}

async function servedVersion(server: TestServer): Promise<string | undefined> {
  const response = await fetch(`${server.url}/v2/models/m/infer`, {
    method: "POST",
    body: JSON.stringify({ inputs: [{ name: "INPUT0", shape: [1, 2], datatype: "FP32", data: [1, 2] }] }),
  });
  return ((await response.json()) as { model_version?: string }).model_version;
}

beforeAll(async () => {
  await s3.start();
  proxy = new S3FaultProxy(s3.endpoint);
  proxy.afterBytes = 16;
  const repo = new TestRepository().addModel("m", {
    config: "max_batch_size: 2",
    versions: { 1: freshModel() },
  });
  await s3.upload(repo.root, "src/");
  repo.remove();
});

afterAll(async () => {
  proxy.heal();
  for (const server of servers) await server.stop({ graceSecs: 0 });
  for (const created of sources) created.close();
  proxy.stop();
  await s3.remove();
  rmSync(temp, { recursive: true, force: true });
});

describe("S3 requests cannot hang", () => {
  it("a download that stalls mid-object fails within the idle timeout, naming the object", async () => {
    proxy.set("stall", "src/m/1/model.onnx");
    const started = performance.now();
    await expect(source({ idleTimeoutMs: 300 }).materialize("m", "1")).rejects.toThrow(
      "/models/src/m/1/model.onnx: S3 sent no bytes for 300 ms after 16 bytes (--s3-idle-timeout-ms)",
    );
    expect(performance.now() - started).toBeLessThan(2000);
    proxy.heal();
  });

  it("an endpoint that accepts and never answers fails within --s3-timeout-ms", async () => {
    proxy.set("blackhole");
    const started = performance.now();
    await expect(source({ timeoutMs: 300 }).list()).rejects.toThrow(
      "did not answer within 300 ms (--s3-timeout-ms)",
    );
    expect(performance.now() - started).toBeLessThan(2000);
    proxy.heal();
  });

  it("closing the source aborts a stalled download at once", async () => {
    proxy.set("stall", "src/m/1/model.onnx");
    const stalled = source({ idleTimeoutMs: 30_000 });
    const download = stalled.materialize("m", "1");
    await until("the download stalled", () => proxy.faulted > 0 && proxy.gets("src/m/1/model.onnx") > 0);
    await Bun.sleep(100);
    const started = performance.now();
    stalled.close();
    await expect(download).rejects.toThrow("cancelled, the repository is closing");
    expect(performance.now() - started).toBeLessThan(1000);
    proxy.heal();
  });
});

describe("a server polling S3 through faults", () => {
  it("keeps loading other models while one download stalls, and stops within the exit timeout", async () => {
    await seed("stall/");
    const lines: string[] = [];
    const server = await serve("stall/", lines, ["--s3-idle-timeout-ms=4000"]);
    expect(await servedVersion(server)).toBe("1");
    proxy.set("stall", "stall/m/2/model.onnx");
    await promoteTo("stall/", "2");
    await until("the download of version 2 stalled", () => proxy.gets("stall/m/2/model.onnx") > 0, 5000);
    const other = new TestRepository().addModel("other", {
      config: "max_batch_size: 2",
      versions: { 1: freshModel() },
    });
    await s3.upload(other.root, "stall/");
    other.remove();
    // Well within the 4 s idle timeout: the stalled model does not hold up the others.
    await until(
      "model 'other' is READY",
      async () => (await fetch(`${server.url}/v2/models/other/ready`)).status === 200,
      3000,
    );
    await until(
      "the stalled download failed by the idle timeout",
      () => lines.some((line) => line.includes("S3 sent no bytes for 4000 ms")),
      8000,
    );
    expect(await servedVersion(server)).toBe("1");
    // Retried with the proxy still stalling: stop while a download hangs.
    await until("version 2 is being downloaded again", () => proxy.gets("stall/m/2/model.onnx") > 1, 8000);
    const started = performance.now();
    const { timedOut } = await server.stop({ graceSecs: 0 });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(timedOut).toBe(false);
    proxy.heal();
  }, 30_000);

  for (const fault of ["cut", "corrupt"] as const) {
    it(`retries a promotion whose download was ${fault === "cut" ? "cut" : "corrupted"} in transit, without a new promote`, async () => {
      const prefix = `${fault}/`;
      await seed(prefix);
      const lines: string[] = [];
      const server = await serve(prefix, lines);
      proxy.set(fault, `${prefix}m/2/model.onnx`);
      await promoteTo(prefix, "2");
      const why = fault === "cut" ? "the connection broke off after 16 bytes" : "damaged in transit";
      await until(`the ${fault} download failed`, () => lines.some((line) => line.includes(why)), 8000).catch(
        (error) => {
          console.error(lines.join("\n"));
          throw error;
        },
      );
      expect(await servedVersion(server)).toBe("1");
      proxy.heal();
      await until("version 2 serves", async () => (await servedVersion(server)) === "2", 10_000);
    }, 30_000);
  }

  it("does not retry a stored object that does not match its pin until the object changes", async () => {
    await seed("rest/");
    const lines: string[] = [];
    const server = await serve("rest/", lines);
    // Keep the server from seeing the manifest before the object is replaced behind its pin.
    proxy.set("refuse");
    await promoteTo("rest/", "3");
    const original = await fetch(`${s3.endpoint}/models/rest/m/3/model.onnx`).then((got) => got.bytes());
    await s3.put("rest/m/3/model.onnx", freshModel());
    proxy.heal();
    await until(
      "version 3 is refused",
      () => lines.some((line) => line.includes("does not match its pin")),
      10_000,
    );
    const downloads = proxy.gets("rest/m/3/model.onnx");
    await Bun.sleep(3000);
    expect(proxy.gets("rest/m/3/model.onnx")).toBe(downloads);
    expect(await servedVersion(server)).toBe("1");
    // The object as pinned again: a new ETag, so the next poll tries once more.
    await s3.put("rest/m/3/model.onnx", original);
    await until("version 3 serves", async () => (await servedVersion(server)) === "3", 10_000);
  }, 30_000);
});

describe("S3 listing", () => {
  it("finds a model whose directory holds only version folders", async () => {
    await s3.put("list/only-versions/1/model.onnx", freshModel());
    await s3.put("list/with-config/config.pbtxt", "max_batch_size: 2");
    await s3.put("list/with-config/1/model.onnx", freshModel());
    await s3.put("list/loose-file.txt", "not a model");
    const listing = new S3Source(
      s3.url("list/"),
      DEFAULT_S3_SETTINGS,
      new ArtifactCache(join(temp, "list"), () => {}),
    );
    sources.push(listing);
    expect(await listing.list()).toEqual(["only-versions", "with-config"]);
  });
});
