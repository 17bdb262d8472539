import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readJson } from "../support/json.ts";
import { addSimple, TestRepository } from "../support/model-repo.ts";
import { buildOnnxModel, identityModel } from "../support/onnx-builder.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

const TENSORS = `input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [4] }] output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [4] }]`;
/** OUTPUT0 = INPUT0 / INPUT0: NaN for the zeros of a synthetic warm-up. */
const nanOnZeros = buildOnnxModel({
  inputs: [{ name: "INPUT0", datatype: "FP32", shape: ["b", 4] }],
  outputs: [{ name: "OUTPUT0", datatype: "FP32", shape: ["b", 4] }],
  nodes: [{ op: "Div", inputs: ["INPUT0", "INPUT0"], outputs: ["OUTPUT0"] }],
});
const gpuModel = (name: string) => ({
  config: `name: "${name}" max_batch_size: 4 ${TENSORS} instance_group [{ kind: KIND_GPU gpus: [0] }]`,
  versions: { 1: identityModel("FP32", ["b", 4]) },
});

interface Expectation {
  model: string;
  ready: boolean;
  state: string;
  reason?: RegExp;
  failedCheck?: string;
  warnedCheck?: string;
}

async function verbose(server: TestServer) {
  const response = await fetch(`${server.url}/v2/health/ready?verbose=true`);
  return { status: response.status, body: await readJson(response) };
}

function versionOf(
  body: {
    models: {
      name: string;
      versions: {
        state: string;
        reason: string;
        ready: boolean;
        checks: { name: string; status: string; detail: string }[];
      }[];
    }[];
  },
  model: string,
) {
  return body.models.find((entry) => entry.name === model)?.versions[0];
}

describe("fault matrix: what readiness and clients see", () => {
  const repo = addSimple(new TestRepository())
    .addModel("bad_config", { config: "max_batch: 4", versions: { 1: identityModel("FP32", ["b", 4]) } })
    .addModel("bad_file", {
      config: `max_batch_size: 4 ${TENSORS}`,
      versions: { 1: new Uint8Array([8, 1, 2, 3]) },
    })
    .addModel("too_slow", {
      config: `max_batch_size: 4 ${TENSORS} parameters { key: "readiness_max_latency_ms" value { string_value: "0.0001" } }`,
      versions: { 1: identityModel("FP32", ["b", 4]) },
    })
    .addModel("nan", { config: `max_batch_size: 4 ${TENSORS}`, versions: { 1: nanOnZeros } })
    .addModel("nan_configured", {
      config: `max_batch_size: 4 ${TENSORS} model_warmup [{ name: "zeros" batch_size: 1 inputs { key: "INPUT0" value { data_type: TYPE_FP32 dims: [4] zero_data: true } } }]`,
      versions: { 1: nanOnZeros },
    })
    .addModel("gpu_refused", gpuModel("gpu_refused"));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(repo.root);
  });
  afterAll(async () => {
    await server.stop();
    repo.remove();
  });

  const cases: Expectation[] = [
    { model: "simple", ready: true, state: "READY" },
    {
      model: "bad_config",
      ready: false,
      state: "UNAVAILABLE",
      reason: /config: .*bad_config\/config\.pbtxt:1:1: unknown field 'max_batch'/,
    },
    { model: "bad_file", ready: false, state: "UNAVAILABLE", reason: /^backend: onnxruntime cannot load/ },
    {
      model: "too_slow",
      ready: false,
      state: "UNAVAILABLE",
      reason:
        /^health: readiness checks failed: warmup: warm-up 'synthetic zeros' on too_slow_0 \(cpu\) took [\d.]+ ms, over the bound of 0\.0001 ms \(parameters readiness_max_latency_ms\)$/,
      failedCheck: "warmup",
    },
    // NaN on zeros ferry made up says nothing about real inputs: a warning, and the model serves.
    { model: "nan", ready: true, state: "READY", warnedCheck: "warmup" },
    {
      model: "nan_configured",
      ready: false,
      state: "UNAVAILABLE",
      reason:
        /^health: readiness checks failed: warmup: warm-up 'zeros' on nan_configured_0 \(cpu\): output 'OUTPUT0' holds NaN at element 0/,
      failedCheck: "warmup",
    },
    {
      model: "gpu_refused",
      ready: false,
      state: "UNAVAILABLE",
      reason:
        /instance_group\[0\] asks for KIND_GPU, but the CUDA execution provider is not available \(no CUDA in tests\) \(--gpu-fallback=cpu would run it on the CPU\)/,
    },
  ];

  for (const { model, ready, state, reason, failedCheck, warnedCheck } of cases) {
    it(`${model}: ${state}${reason ? " with the reason" : ""}, model ready ${ready}`, async () => {
      const { body } = await verbose(server);
      const version = versionOf(body, model);
      expect(version?.state).toBe(state);
      expect(version?.ready).toBe(ready);
      if (reason) expect(version?.reason).toMatch(reason);
      if (failedCheck)
        expect(version?.checks.find((check) => check.name === failedCheck)?.status).toBe("FAIL");
      if (warnedCheck) {
        const warned = version?.checks.find((check) => check.name === warnedCheck);
        expect(warned?.status).toBe("WARN");
        expect(warned?.detail).toContain("add model_warmup");
      }
      const modelReady = await fetch(`${server.url}/v2/models/${model}/ready`);
      expect(modelReady.status).toBe(ready ? 200 : 404);
      if (!ready) {
        const answer = await fetch(`${server.url}/v2/models/${model}/infer`, {
          method: "POST",
          body: '{"inputs": []}',
        });
        expect(answer.status).toBe(404);
        expect((await readJson(answer)).error).toBe(
          `repository: Request for unknown model: '${model}' has no available versions`,
        );
      }
    });
  }

  it("is live but not ready, and the verbose probe answers with the same status as the plain one", async () => {
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(400);
    const { status, body } = await verbose(server);
    expect(status).toBe(400);
    expect(body).toMatchObject({ ready: false, phase: "READY", strict_readiness: true });
    const simple = versionOf(body, "simple");
    expect(simple?.checks.map((check) => [check.name, check.status])).toEqual([
      ["backend", "PASS"],
      ["gpu", "SKIP"],
      ["warmup", "PASS"],
      ["synthetic_inference", "PASS"],
      ["outputs", "PASS"],
    ]);
    expect(simple?.checks[0]?.detail).toBe("2 instance(s) on cpu");
  });

  it("serves the models that are ready", async () => {
    const data = new Array(16).fill(1);
    const answer = await fetch(`${server.url}/v2/models/simple/infer`, {
      method: "POST",
      body: JSON.stringify({
        inputs: [
          { name: "INPUT0", shape: [1, 16], datatype: "INT32", data },
          { name: "INPUT1", shape: [1, 16], datatype: "INT32", data },
        ],
      }),
    });
    expect(answer.status).toBe(200);
  });
});

describe("readiness without --strict-readiness", () => {
  it("is ready when the models that loaded pass their checks, whatever failed to load", async () => {
    const repo = addSimple(new TestRepository()).addModel("bad_config", { config: "max_batch: 4" });
    const server = await startTestServer(repo.root, ["--strict-readiness=false"]);
    try {
      expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
      const { body } = await verbose(server);
      expect(body.strict_readiness).toBe(false);
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});

describe("--gpu-fallback=cpu", () => {
  it("runs a KIND_GPU group on the CPU, says so in the backend check, and serves", async () => {
    const repo = new TestRepository().addModel("gpu_fallback", gpuModel("gpu_fallback"));
    const server = await startTestServer(repo.root, ["--gpu-fallback=cpu"]);
    try {
      const { status, body } = await verbose(server);
      expect(status).toBe(200);
      const backend = versionOf(body, "gpu_fallback")?.checks.find((check) => check.name === "backend");
      expect(backend?.detail).toBe(
        "1 instance(s) on cpu; instance_group[0] KIND_GPU runs on the CPU: the CUDA execution provider is not available (no CUDA in tests) (--gpu-fallback=cpu)",
      );
      const answer = await fetch(`${server.url}/v2/models/gpu_fallback/infer`, {
        method: "POST",
        body: JSON.stringify({
          inputs: [{ name: "INPUT0", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }],
        }),
      });
      expect(answer.status).toBe(200);
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});
