import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readJson } from "../../support/json.ts";
import { addSimple, TestRepository } from "../../support/model-repo.ts";
import { identityModel } from "../../support/onnx-builder.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

const repo = addSimple(new TestRepository())
  .addModel("two_versions", {
    config: `max_batch_size: 0 version_policy { all {} } instance_group [{ kind: KIND_CPU count: 1 }]`,
    versions: { 1: identityModel("FP32", [3]), 2: identityModel("FP32", [3]) },
  })
  .addModel("no_config", { versions: { 1: identityModel("UINT8", ["batch", 2]) } });
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);

describe("health", () => {
  it("answers live and ready with 200 and an empty body", async () => {
    for (const path of ["/v2/health/live", "/v2/health/ready"]) {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("");
    }
  });

  it("answers model ready with and without a version", async () => {
    expect((await get("/v2/models/simple/ready")).status).toBe(200);
    expect((await get("/v2/models/two_versions/versions/1/ready")).status).toBe(200);
    expect((await get("/v2/models/two_versions/versions/7/ready")).status).toBe(404);
    expect((await get("/v2/models/nope/ready")).status).toBe(404);
  });
});

describe("metadata", () => {
  it("lists the server and exactly the extensions it implements", async () => {
    const body = await readJson(await get("/v2"));
    expect(body).toEqual({
      name: "ferry",
      version: expect.any(String),
      extensions: [
        "classification",
        "sequence",
        "model_repository",
        "model_repository(unload_dependents)",
        "schedule_policy",
        "model_configuration",
        "binary_tensor_data",
        "parameters",
        "statistics",
      ],
    });
  });

  it("describes a batching model with a -1 batch dimension", async () => {
    expect(await readJson(await get("/v2/models/simple"))).toEqual({
      name: "simple",
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [
        { name: "INPUT0", datatype: "INT32", shape: [-1, 16] },
        { name: "INPUT1", datatype: "INT32", shape: [-1, 16] },
      ],
      outputs: [
        { name: "OUTPUT0", datatype: "INT32", shape: [-1, 16] },
        { name: "OUTPUT1", datatype: "INT32", shape: [-1, 16] },
      ],
    });
  });

  it("describes a given version and lists every ready version", async () => {
    const body = await readJson(await get("/v2/models/two_versions/versions/1"));
    expect(body.versions).toEqual(["1", "2"]);
    expect(body.inputs).toEqual([{ name: "INPUT0", datatype: "FP32", shape: [3] }]);
  });

  it("returns the completed config, auto-completed where config.pbtxt is missing", async () => {
    const config = await readJson(await get("/v2/models/no_config/config"));
    expect(config.name).toBe("no_config");
    expect(config.max_batch_size).toBe(4);
    expect(config.input[0]).toMatchObject({ name: "INPUT0", data_type: "TYPE_UINT8", dims: [2] });
    expect(config.instance_group[0]).toMatchObject({ kind: "KIND_CPU", count: 2 });
    expect(config.dynamic_batching).toBeDefined();
    const versioned = await readJson(await get("/v2/models/simple/versions/1/config"));
    expect(versioned.max_batch_size).toBe(8);
  });
});

describe("routing errors", () => {
  const cases: [string, string, number, string][] = [
    ["GET", "/v2/nothing", 404, "Not Found"],
    ["GET", "/v3", 404, "Not Found"],
    ["POST", "/v2/health/live", 405, "Method Not Allowed"],
    ["GET", "/v2/models/simple/infer", 405, "Method Not Allowed"],
    ["DELETE", "/v2/models/simple", 405, "Method Not Allowed"],
  ];
  for (const [method, path, status, error] of cases) {
    it(`answers ${method} ${path} with ${status}`, async () => {
      const response = await get(path, { method });
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toContain("application/json");
      expect(await readJson(response)).toEqual({ error });
    });
  }

  it("sends no CORS headers unless --cors-allow-origin asks for them", async () => {
    const response = await get("/v2/health/live", { headers: { origin: "http://app.example.test" } });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers unknown models and versions with Triton's messages", async () => {
    const unknown = await get("/v2/models/nope");
    expect(unknown.status).toBe(404);
    expect((await readJson(unknown)).error).toBe(
      "repository: Request for unknown model: 'nope' is not found",
    );
    const version = await get("/v2/models/simple/versions/3/config");
    expect(version.status).toBe(404);
    expect((await readJson(version)).error).toContain("'simple' version 3 is not found");
  });
});
