import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { runPromote, runRollback } from "../../../src/cli/promote.ts";
import type { CommandOutput } from "../../../src/cli/repository-command.ts";
import { runStatus } from "../../../src/cli/status.ts";
import type { Logger } from "../../../src/core/log.ts";
import { ArtifactCache } from "../../../src/repository/artifact-cache.ts";
import { DEFAULT_S3_SETTINGS } from "../../../src/repository/s3/s3-settings.ts";
import { S3Source } from "../../../src/repository/s3/s3-source.ts";
import { readJson } from "../../support/json.ts";
import { TestRepository } from "../../support/model-repo.ts";
import { identityModel } from "../../support/onnx-builder.ts";
import { freePort } from "../../support/ports.ts";
import { S3Proxy, S3rver } from "../../support/s3rver.ts";
import { metricValue, startTestServer, type TestServer } from "../../support/test-server.ts";
import { until } from "../../support/until.ts";

const s3 = new S3rver();
const servers: TestServer[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
let server: TestServer;
const lines: string[] = [];

function capture(into: string[]): Logger {
  const add = (line: string) => into.push(line);
  return { info: add, warn: add, error: add, verbose: () => {} };
}

async function command(run: (argv: string[], output: CommandOutput) => Promise<number>, argv: string[]) {
  let text = "";
  const output = { out: (chunk: string) => (text += chunk), err: (chunk: string) => (text += chunk) };
  const code = await run(argv, output);
  return { code, text };
}

const repository = () => s3.url("repo");

async function infer(target: TestServer, version = "") {
  const path = version ? `/v2/models/m/versions/${version}/infer` : "/v2/models/m/infer";
  const response = await fetch(`${target.url}${path}`, {
    method: "POST",
    body: JSON.stringify({ inputs: [{ name: "INPUT0", shape: [1, 2], datatype: "FP32", data: [1, 2] }] }),
  });
  const body = (await response.json()) as { model_version?: string; error?: string };
  return { status: response.status, version: body.model_version, error: body.error };
}

async function index(target: TestServer) {
  const response = await fetch(`${target.url}/v2/repository/index`, { method: "POST", body: "{}" });
  return (await response.json()) as { name: string; version?: string; state?: string; reason?: string }[];
}

async function repositoryLayer(target: TestServer) {
  const response = await fetch(`${target.url}/v2/health/ready?verbose=true`);
  return { status: response.status, repository: (await readJson(response)).repository };
}

const stateOf = async (target: TestServer, version: string) =>
  (await index(target)).find((row) => row.name === "m" && row.version === version);

beforeAll(async () => {
  await s3.start();
  const repo = new TestRepository().addModel("m", {
    config: "max_batch_size: 2\ndynamic_batching {}",
    versions: {
      1: identityModel("FP32", ["b", 2]),
      // Same interface, different bytes: each version is its own artifact.
      2: identityModel("FP32", ["batch", 2]),
      3: identityModel("FP32", ["n", 2]),
    },
  });
  await s3.upload(repo.root, "repo/");
  repo.remove();
  expect((await command(runPromote, ["m", "1", `--repository=${repository()}`, "--by=test"])).code).toBe(0);
  server = await startTestServer(
    repository(),
    ["--model-control-mode=poll", "--repository-poll-secs=1"],
    {},
    capture(lines),
  );
  servers.push(server);
}, 30_000);

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  for (const running of servers) await running.stop({ graceSecs: 0 });
  await s3.remove();
});

describe("serving from S3 with promotion manifests", () => {
  it("loads the promoted version from S3 and answers", async () => {
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    expect(await infer(server)).toMatchObject({ status: 200, version: "1" });
    expect(await stateOf(server, "2")).toBeUndefined();
  });

  it("switches to a promoted version under continuous load with no failed request", async () => {
    const results: { status: number; version?: string; error?: string }[] = [];
    let running = true;
    const client = async () => {
      while (running && results.length < 20_000) results.push(await infer(server));
    };
    const load = Promise.all([client(), client(), client(), client()]);
    await until("a few requests were answered", () => results.length > 20);
    const promoted = await command(runPromote, ["m", "2", `--repository=${repository()}`, "--by=test"]);
    expect(promoted.text).toContain("promoted m version 2");
    expect(promoted.text).toContain("serves version 2 (100%)");
    await until("version 2 answers", () => results.at(-1)?.version === "2", 20_000);
    await until(
      "version 1 unloaded",
      async () => (await stateOf(server, "1"))?.reason === "unloaded",
      20_000,
    );
    const count = results.length;
    await until("more requests were answered", () => results.length > count + 20);
    running = false;
    await load;
    expect(results.filter((result) => result.status !== 200)).toEqual([]);
    expect(new Set(results.map((result) => result.version))).toEqual(new Set(["1", "2"]));
    expect(lines.some((line) => line.includes("model 'm' version 2 is READY"))).toBe(true);
  }, 60_000);

  it("rolls back to the previous revision", async () => {
    const rolled = await command(runRollback, ["m", `--repository=${repository()}`]);
    expect(rolled).toMatchObject({ code: 0 });
    expect(rolled.text).toContain("(rollback to revision 1) serves version 1 (100%)");
    await until("version 1 answers again", async () => (await infer(server)).version === "1", 20_000);
    const status = await command(runStatus, ["m", `--repository=${repository()}`, `--server=${server.url}`]);
    expect(status.code).toBe(0);
    expect(status.text).toContain(`server ${server.url}: in sync`);
    expect(status.text).toContain("rollback would serve: version 2 (100%)");
  }, 30_000);

  it("keeps serving when a promoted file does not match its checksum, and shows why", async () => {
    const store = new S3Source(
      repository(),
      DEFAULT_S3_SETTINGS,
      new ArtifactCache("/nonexistent", () => {}),
    );
    cleanups.push(() => store.close());
    const { manifest, etag } = await store.readManifest("m");
    if (!manifest) throw new Error("no manifest");
    const pinned = await store.digestFiles("m", "3");
    pinned["3/model.onnx"] = { sha256: "0".repeat(64), size: pinned["3/model.onnx"]?.size ?? 0 };
    const { history: _, schema, model, ...current } = manifest;
    await store.writeManifest(
      "m",
      {
        schema,
        model,
        revision: manifest.revision + 1,
        serving: [{ version: "3", weight: 100, files: pinned }],
        promoted_by: "mallory",
        promoted_at: new Date().toISOString(),
        history: [...manifest.history, current],
      },
      etag,
    );
    await until(
      "version 3 is refused",
      async () => (await stateOf(server, "3"))?.state === "UNAVAILABLE",
      20_000,
    );
    expect((await stateOf(server, "3"))?.reason).toContain(
      "s3://models/repo/m/3/model.onnx: checksum mismatch",
    );
    expect(await infer(server)).toMatchObject({ status: 200, version: "1" });
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    const metrics = await (await fetch(server.metricsUrl)).text();
    expect(
      metricValue(metrics, 'ferry_model_load_failures_total{model="m",version="3"}'),
    ).toBeGreaterThanOrEqual(1);
    const status = await command(runStatus, ["m", `--repository=${repository()}`, `--server=${server.url}`]);
    expect(status.code).toBe(1);
    expect(status.text).toContain("not serving the manifest's versions");
    expect(status.text).toContain(
      "* version 3: UNAVAILABLE (repository: s3://models/repo/m/3/model.onnx: checksum mismatch",
    );
    expect(lines.some((line) => line.includes("model 'm' keeps serving version(s) 1"))).toBe(true);
  }, 30_000);

  it("keeps serving while S3 is unreachable mid-poll, and converges once it is back", async () => {
    await s3.stop();
    await until(
      "a poll failed",
      () => lines.some((line) => line.includes("cannot list the model repository")),
      20_000,
    );
    const failure = lines.find((line) => line.includes("cannot list the model repository")) ?? "";
    expect(failure).toContain(
      `cannot reach S3 endpoint http://127.0.0.1:${s3.port} (from the repository URL)`,
    );
    expect(failure).toMatch(/retrying in [0-9.]+s, serving what is loaded meanwhile/);
    expect(await infer(server)).toMatchObject({ status: 200, version: "1" });
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    // Ready stays 200 while what serves keeps serving; the repository layer shows the trouble.
    const down = await repositoryLayer(server);
    expect(down.status).toBe(200);
    expect(down.repository).toMatchObject({ locations: [repository()], in_sync: false });
    expect(down.repository.last_error).toContain(`cannot reach S3 endpoint http://127.0.0.1:${s3.port}`);
    expect(down.repository.failures_in_a_row).toBeGreaterThanOrEqual(1);
    await s3.start();
    expect((await command(runPromote, ["m", "2", `--repository=${repository()}`])).code).toBe(0);
    await until("version 2 answers", async () => (await infer(server)).version === "2", 30_000);
    expect(lines.some((line) => line === "model repository reachable again")).toBe(true);
    const back = (await repositoryLayer(server)).repository;
    expect(back).toMatchObject({
      last_error: null,
      last_error_at: null,
      in_sync: true,
      failures_in_a_row: 0,
    });
    expect(Date.parse(back.last_listed_at)).toBeGreaterThan(Date.parse(down.repository.last_error_at));
  }, 60_000);

  it("loads from the cache without downloading again, in explicit mode through the load API", async () => {
    const proxy = new S3Proxy(s3);
    cleanups.push(() => proxy.stop());
    const second = await startTestServer(proxy.url("repo"), ["--model-control-mode=explicit"]);
    servers.push(second);
    expect(await stateOf(second, "2")).toBeUndefined();
    const loaded = await fetch(`${second.url}/v2/repository/models/m/load`, { method: "POST", body: "{}" });
    expect(loaded.status).toBe(200);
    expect(await infer(second)).toMatchObject({ status: 200, version: "2" });
    expect(proxy.count("GET", "/m/2/model.onnx")).toBe(0);
    expect(proxy.count("GET", "/m/promotion.json")).toBe(1);
  }, 30_000);
});

describe("an S3 repository unreachable at start-up", () => {
  it("leaves the server live but not ready, retrying until the bucket answers", async () => {
    const later = new S3rver(freePort());
    cleanups.push(() => later.remove());
    const startLines: string[] = [];
    const waiting = await startTestServer(
      later.url("repo"),
      ["--model-control-mode=poll", "--repository-poll-secs=1"],
      {},
      capture(startLines),
    );
    servers.push(waiting);
    expect(waiting.startupSucceeded).toBe(false);
    expect((await fetch(`${waiting.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${waiting.url}/v2/health/ready`)).status).toBe(400);
    expect(startLines.join("\n")).toContain(`cannot reach S3 endpoint http://127.0.0.1:${later.port}`);
    await later.start();
    const repo = new TestRepository().addModel("m", {
      config: "max_batch_size: 2",
      versions: { 1: identityModel("FP32", ["b", 2]) },
    });
    await later.upload(repo.root, "repo/");
    repo.remove();
    await until(
      "the server is ready",
      async () => (await fetch(`${waiting.url}/v2/health/ready`)).status === 200,
      30_000,
    );
    expect(await infer(waiting)).toMatchObject({ status: 200, version: "1" });
  }, 60_000);
});
