import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readJson } from "../support/json.ts";
import { TestRepository } from "../support/model-repo.ts";
import { buildOnnxModel } from "../support/onnx-builder.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

/**
 * Triton's simple_string: two BYTES inputs of 16 decimal numbers, cast to
 * INT32, added and subtracted, cast back to strings. Empty strings (the
 * zeros ferry invents without model_warmup) make the Cast fail, as real
 * clients never would.
 */
const simpleString = buildOnnxModel({
  inputs: ["INPUT0", "INPUT1"].map((name) => ({ name, datatype: "BYTES" as const, shape: ["batch", 16] })),
  outputs: ["OUTPUT0", "OUTPUT1"].map((name) => ({ name, datatype: "BYTES" as const, shape: ["batch", 16] })),
  nodes: [
    { op: "Cast", inputs: ["INPUT0"], outputs: ["A"], attributes: { to: { int: 6 } } },
    { op: "Cast", inputs: ["INPUT1"], outputs: ["B"], attributes: { to: { int: 6 } } },
    { op: "Add", inputs: ["A", "B"], outputs: ["SUM"] },
    { op: "Sub", inputs: ["A", "B"], outputs: ["DIFF"] },
    { op: "Cast", inputs: ["SUM"], outputs: ["OUTPUT0"], attributes: { to: { int: 8 } } },
    { op: "Cast", inputs: ["DIFF"], outputs: ["OUTPUT1"], attributes: { to: { int: 8 } } },
  ],
});

const config = `name: "simple_string"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_STRING dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_STRING dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_STRING dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_STRING dims: [ 16 ] } ]`;

describe("a model that fails on invented inputs but serves real ones (Triton's simple_string)", () => {
  const repo = new TestRepository().addModel("simple_string", { config, versions: { 1: simpleString } });
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(repo.root, ["--readiness-check-interval-secs=0"]);
  });
  afterAll(async () => {
    await server.stop();
    repo.remove();
  });

  it("is READY and the server ready, with the invented-input checks as WARN naming model_warmup", async () => {
    const response = await fetch(`${server.url}/v2/health/ready?verbose=true`);
    expect(response.status).toBe(200);
    const [version] = (await readJson(response)).models[0].versions;
    expect(version.state).toBe("READY");
    const statuses = Object.fromEntries(
      version.checks.map((check: { name: string; status: string }) => [check.name, check.status]),
    );
    expect(statuses).toEqual({
      backend: "PASS",
      gpu: "SKIP",
      warmup: "WARN",
      synthetic_inference: "WARN",
      outputs: "SKIP",
    });
    const warmup = version.checks.find((check: { name: string }) => check.name === "warmup");
    expect(warmup.detail).toContain("onnxruntime failed in simple_string_0");
    expect(warmup.detail).toContain("add model_warmup");
    expect((await fetch(`${server.url}/v2/models/simple_string/ready`)).status).toBe(200);
  });

  it("answers real requests correctly", async () => {
    const first = Array.from({ length: 16 }, (_, at) => String(at));
    const second = Array.from({ length: 16 }, () => "1");
    const response = await fetch(`${server.url}/v2/models/simple_string/infer`, {
      method: "POST",
      body: JSON.stringify({
        inputs: [
          { name: "INPUT0", shape: [1, 16], datatype: "BYTES", data: first },
          { name: "INPUT1", shape: [1, 16], datatype: "BYTES", data: second },
        ],
      }),
    });
    expect(response.status).toBe(200);
    const { outputs } = await readJson(response);
    expect(outputs[0]).toEqual({
      name: "OUTPUT0",
      datatype: "BYTES",
      shape: [1, 16],
      data: first.map((value) => String(Number(value) + 1)),
    });
    expect(outputs[1].data).toEqual(first.map((value) => String(Number(value) - 1)));
  });

  it("answers a client's unparsable strings with the model's error, and keeps serving", async () => {
    const bad = Array.from({ length: 16 }, () => "not a number");
    const response = await fetch(`${server.url}/v2/models/simple_string/infer`, {
      method: "POST",
      body: JSON.stringify({
        inputs: [
          { name: "INPUT0", shape: [1, 16], datatype: "BYTES", data: bad },
          { name: "INPUT1", shape: [1, 16], datatype: "BYTES", data: bad },
        ],
      }),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect((await readJson(response)).error).toContain("onnxruntime failed in simple_string_");
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  });
});
