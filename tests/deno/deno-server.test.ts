import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import packageJson from "../../package.json" with { type: "json" };
import { readJson } from "../support/json.ts";
import { addSimple, TestRepository } from "../support/model-repo.ts";
import { freePort } from "../support/ports.ts";
import { S3rver } from "../support/s3rver.ts";
import {
  CRASH_MODEL_CODE,
  DOUBLE_MODEL_CODE,
  describeServingSubset,
  type ServingTarget,
} from "../support/serving-subset.ts";
import { addTsModel, FP32_IO } from "../support/ts-models.ts";
import { until } from "../support/until.ts";

// ferry as a Deno process (the deno npm package's binary, as `npm run start:deno` runs it),
// answering the same subset the Bun server answers in tests/protocol/serving-subset.test.ts.
const ROOT = join(import.meta.dir, "../..");
const DENO = join(ROOT, "node_modules/.bin/deno");
/** What `npm run start:deno` passes: Deno.bundle for the console, request.signal aborting only when the client goes. */
const DENO_FLAGS = ["--allow-all", "--unstable-bundle", "--unstable-no-legacy-abort"];
const repo = addTsModel(
  addTsModel(addSimple(new TestRepository()), "double", FP32_IO, DOUBLE_MODEL_CODE),
  "crash",
  FP32_IO,
  CRASH_MODEL_CODE,
);
/** The console bundle npm install made (package.json's prepare script): what Deno serves, offline. */
const INSTALLED_BUNDLE = join(import.meta.dir, "..", "..", "node_modules", ".cache", "ferry", "console.js");

/** A second repository, in S3, so that the AWS SDK and the artifact cache run under Deno too. */
const s3Repo = addSimple(new TestRepository(), "simple_s3");
const s3 = new S3rver();
const cacheDir = mkdtempSync(join(tmpdir(), "ferry-deno-cache-"));
let target: ServingTarget;
let ferry: Subprocess<"ignore", "pipe", "pipe">;
let log = "";

beforeAll(async () => {
  await s3.start();
  await s3.upload(s3Repo.root, "repo/");
  // Picked once s3rver listens: a port freePort() handed out but nobody holds yet can come back.
  const [http, grpc, metrics] = [freePort(), freePort(), freePort()];
  target = {
    url: `http://127.0.0.1:${http}`,
    grpcPort: grpc,
    metricsUrl: `http://127.0.0.1:${metrics}/metrics`,
  };
  ferry = Bun.spawn(
    [
      DENO,
      "run",
      ...DENO_FLAGS,
      "src/main.ts",
      `--model-repository=${repo.root}`,
      `--model-repository=${s3.url("repo")}`,
      `--model-cache-dir=${cacheDir}`,
      ...["http", "grpc", "metrics"].map((endpoint) => `--${endpoint}-address=127.0.0.1`),
      `--http-port=${http}`,
      `--grpc-port=${grpc}`,
      `--metrics-port=${metrics}`,
      "--drain-grace-secs=0",
      "--exit-timeout-secs=5",
    ],
    { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
  );
  // Kept whole so that a failure shows what the server said.
  void Promise.all([new Response(ferry.stdout).text(), new Response(ferry.stderr).text()]).then(
    ([out, err]) => {
      log = out + err;
    },
  );
  const ready = () =>
    fetch(`${target.url}/v2/health/ready`)
      .then((response) => response.status === 200)
      .catch(() => false);
  const started = await until(
    "ferry under Deno is ready",
    async () => (await ready()) || ferry.exitCode !== null,
    30_000,
  )
    .then(() => ferry.exitCode === null)
    .catch(() => false);
  if (!started) {
    ferry.kill("SIGKILL");
    await ferry.exited;
    await until("its log is read", () => log !== "", 5_000);
    throw new Error(`ferry under Deno did not become ready (exit ${ferry.exitCode}):\n${log}`);
  }
}, 40_000);

afterAll(async () => {
  ferry.kill("SIGKILL");
  repo.remove();
  s3Repo.remove();
  await s3.remove();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe("ferry under Deno", () => {
  describeServingSubset(() => target);

  it("serves a model from the S3 repository", async () => {
    const response = await fetch(`${target.url}/v2/models/simple_s3/infer`, {
      method: "POST",
      body: JSON.stringify({
        inputs: ["INPUT0", "INPUT1"].map((name) => ({
          name,
          datatype: "INT32",
          shape: [1, 16],
          data: new Array(16).fill(3),
        })),
      }),
    });
    expect((await readJson(response)).outputs[0].data).toEqual(new Array(16).fill(6));
  });

  const served = async (path: string, kind: string) => {
    const response = await fetch(`${target.url}${path}`);
    expect(`${path} ${response.status} ${response.headers.get("content-type")}`).toContain(
      `${path} 200 ${kind}`,
    );
    const body = await response.text();
    expect(body.length).toBeGreaterThan(100);
    return body;
  };

  it("serves the console's page and stylesheet", async () => {
    await served("/console", "text/html");
    await served("/console/console.css", "text/css");
  });

  it("serves the console's script: the bundle npm install made, no network needed", async () => {
    const script = await served("/console/console.js", "text/javascript");
    expect(script).toBe(readFileSync(INSTALLED_BUNDLE, "utf8"));
  });

  it("runs with the flags npm run start:deno uses", () => {
    expect(packageJson.scripts["start:deno"]).toStartWith(
      `exec deno run ${DENO_FLAGS.join(" ")} src/main.ts`,
    );
  });

  it("drains and exits 0 on SIGTERM", async () => {
    ferry.kill("SIGTERM");
    expect(await ferry.exited).toBe(0);
    await until("the log is read", () => log !== "", 5_000);
    expect(log).toContain("SIGTERM: shutting down");
    expect(log).not.toContain("Uncaught (in promise)");
    // request.signal means "the client went away", as under Bun (--unstable-no-legacy-abort).
    expect(log).not.toContain("legacy behavior");
    const live = await fetch(`${target.url}/v2/health/live`).catch(() => undefined);
    expect(live).toBeUndefined();
  }, 20_000);
});
