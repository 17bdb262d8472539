import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runPromote } from "../../src/cli/promote.ts";
import { currentRuntime } from "../../src/health/runtime.ts";
import { readJson } from "../support/json.ts";
import { TestRepository } from "../support/model-repo.ts";
import { identityModel } from "../support/onnx-builder.ts";
import { metricValue, startTestServer, type TestServer } from "../support/test-server.ts";

const quiet = { out: () => undefined, err: () => undefined };
const repos: TestRepository[] = [];
const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  for (const repo of repos) repo.remove();
});

async function promoted(config: string, flags: string[] = []): Promise<TestRepository> {
  const repo = new TestRepository().addModel("m", {
    config,
    versions: { 1: identityModel("FP32", ["b", 2]) },
  });
  repos.push(repo);
  expect(await runPromote(["m", "1", `--repository=${repo.root}`, ...flags], quiet)).toBe(0);
  return repo;
}

/** Rewrites the manifest as if `ferry promote` had run on another runtime. */
function recordRuntime(repo: TestRepository, change: (runtime: Record<string, string>) => void): void {
  const file = join(repo.root, "m", "promotion.json");
  const manifest = JSON.parse(readFileSync(file, "utf8"));
  change(manifest.serving[0].runtime);
  writeFileSync(file, JSON.stringify(manifest, null, 2));
}

async function serve(
  repo: TestRepository,
  flags: string[] = [],
  devices?: Parameters<typeof startTestServer>[2],
) {
  const server = await startTestServer(repo.root, flags, devices);
  servers.push(server);
  const report = await readJson(await fetch(`${server.url}/v2/health/ready?verbose=true`));
  const version = report.models[0].versions[0];
  const check = version.checks.find((entry: { name: string }) => entry.name === "runtime");
  return { server, report, version, check };
}

const CONFIG = "max_batch_size: 2";
const here = currentRuntime("cpu");
const nextMinor = (version: string) => {
  const [major, minor] = version.split(".");
  return `${major}.${Number(minor) + 1}.0`;
};

describe("the runtime pin", () => {
  it("records the promoting runtime and passes on the same one", async () => {
    const repo = await promoted(CONFIG);
    const manifest = JSON.parse(readFileSync(join(repo.root, "m", "promotion.json"), "utf8"));
    expect(manifest.serving[0].runtime).toEqual(here);
    const { version, check } = await serve(repo);
    expect(version.state).toBe("READY");
    expect(check).toMatchObject({
      status: "PASS",
      detail: expect.stringContaining("same runtime as promoted"),
    });
  });

  it("refuses a minor difference by default, with both sides in the reason", async () => {
    const repo = await promoted(CONFIG);
    recordRuntime(repo, (runtime) => {
      runtime.onnxruntime_node = nextMinor(here.onnxruntime_node);
    });
    const { report, version } = await serve(repo);
    expect(version.state).toBe("UNAVAILABLE");
    expect(version.reason).toContain(
      `runtime: promoted with ferry ${here.ferry}, onnxruntime-node ${nextMinor(here.onnxruntime_node)}`,
    );
    expect(version.reason).toContain("onnxruntime-node differs in its minor version");
    expect(report.ready).toBe(false);
  });

  it("serves with a WARN check and counts it under --runtime-mismatch=warn", async () => {
    const repo = await promoted(CONFIG);
    recordRuntime(repo, (runtime) => {
      runtime.bun = nextMinor(here.bun);
    });
    const { server, version, check } = await serve(repo, ["--runtime-mismatch=warn"]);
    expect(version.state).toBe("READY");
    expect(check.status).toBe("WARN");
    expect(check.detail).toContain(`bun ${nextMinor(here.bun)}, cpu; this host runs`);
    const metrics = await (await fetch(server.metricsUrl)).text();
    expect(metricValue(metrics, 'ferry_runtime_mismatch_total{model="m",version="1"}')).toBe(1);
  });
});

describe("the GPU SKU pin", () => {
  const GPU_CONFIG = `${CONFIG} instance_group [{ kind: KIND_GPU gpus: [0] }]`;
  const host = { devices: { gpus: [0], cuda: true, gpuNames: { 0: "NVIDIA A100-SXM4-80GB" } } };

  it("leaves a version UNAVAILABLE on a host whose GPU is another model", async () => {
    const repo = await promoted(GPU_CONFIG, ["--gpu=NVIDIA H200"]);
    const manifest = JSON.parse(readFileSync(join(repo.root, "m", "promotion.json"), "utf8"));
    expect(manifest.serving[0].validation).toEqual({ gpu: ["NVIDIA H200"] });
    expect(manifest.serving[0].runtime.execution_provider).toBe("cuda");
    const { version } = await serve(repo, [], host);
    expect(version.state).toBe("UNAVAILABLE");
    expect(version.reason).toBe(
      'health: validation: the promotion manifest pins GPU "NVIDIA H200", but GPU 0 of this host is "NVIDIA A100-SXM4-80GB"',
    );
  });

  it("pins the CPU with --device=cpu", async () => {
    const repo = await promoted(GPU_CONFIG, ["--device=cpu"]);
    const { version } = await serve(repo, [], host);
    expect(version.reason).toBe(
      "health: validation: the promotion manifest pins device cpu, but 1 instance(s) would run on gpu:0",
    );
  });
});
