import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readJson } from "../../support/json.ts";
import { addSimple, TestRepository } from "../../support/model-repo.ts";
import { identityModel } from "../../support/onnx-builder.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

const repo = addSimple(new TestRepository())
  .addModel("second", {
    config: `max_batch_size: 2 input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [2] }] output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [2] }] instance_group [{ kind: KIND_CPU count: 1 }]`,
    versions: { 1: identityModel("FP32", ["b", 2]) },
  })
  .addModel("broken", { config: "max_batch: 1", versions: { 1: identityModel("FP32", ["b", 2]) } });
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(repo.root, ["--model-control-mode=explicit", "--load-model=simple"]);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
    headers,
  });

describe("model repository extension over HTTP (explicit mode)", () => {
  it("indexes every model: loaded ones with state, never-loaded ones by name", async () => {
    const response = await post("/v2/repository/index");
    expect(response.status).toBe(200);
    expect(await readJson(response)).toEqual([
      { name: "broken" },
      { name: "second" },
      { name: "simple", version: "1", state: "READY", reason: "" },
    ]);
    expect(await readJson(await post("/v2/repository/index", { ready: true }))).toEqual([
      { name: "simple", version: "1", state: "READY", reason: "" },
    ]);
  });

  it("loads a model and serves it once the call returns", async () => {
    const response = await post("/v2/repository/models/second/load");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
    expect((await fetch(`${server.url}/v2/models/second/ready`)).status).toBe(200);
  });

  it("answers a failed load with the reason, and shows it in the index", async () => {
    const response = await post("/v2/repository/models/broken/load");
    expect(response.status).toBe(400);
    expect((await readJson(response)).error).toMatch(/unknown field 'max_batch'/);
    const index = await readJson(await post("/v2/repository/index"));
    expect(index.find((row: { name: string }) => row.name === "broken")).toMatchObject({
      state: "UNAVAILABLE",
    });
  });

  it("unloads at once and the model drains to UNAVAILABLE 'unloaded'", async () => {
    await post("/v2/repository/models/second/load");
    const response = await post("/v2/repository/models/second/unload", {
      parameters: { unload_dependents: true },
    });
    expect(response.status).toBe(200);
    for (let i = 0; i < 100; i++) {
      const row = (await readJson(await post("/v2/repository/index"))).find(
        (entry: { name: string }) => entry.name === "second",
      );
      if (row.state === "UNAVAILABLE") {
        expect(row).toEqual({ name: "second", version: "1", state: "UNAVAILABLE", reason: "unloaded" });
        return;
      }
      await Bun.sleep(20);
    }
    throw new Error("never unloaded");
  });

  it("loads with a config override", async () => {
    const config = {
      max_batch_size: 2,
      input: [{ name: "INPUT0", data_type: "TYPE_FP32", dims: [2] }],
      output: [{ name: "OUTPUT0", data_type: "TYPE_FP32", dims: [2] }],
      instance_group: [{ kind: "KIND_CPU", count: 3 }],
    };
    const response = await post("/v2/repository/models/second/load", {
      parameters: { config: JSON.stringify(config) },
    });
    expect(response.status).toBe(200);
    const served = await readJson(await fetch(`${server.url}/v2/models/second/config`));
    expect(served.instance_group[0].count).toBe(3);
  });

  it("names the config override, not the file on disk, when the override is wrong", async () => {
    const config = {
      max_batch_size: 2,
      input: [{ name: "INPUT0", data_type: "TYPE_FP32", dims: [2] }],
      output: [{ name: "OUTPUT0", data_type: "TYPE_FP32", dims: [5] }],
    };
    const response = await post("/v2/repository/models/second/load", {
      parameters: { config: JSON.stringify(config) },
    });
    expect(response.status).toBe(400);
    const { error } = await readJson(response);
    expect(error).toContain("the config override in the load request for 'second'");
    expect(error).not.toContain("config.pbtxt");
  });

  it("loads from file overrides, which need a config", async () => {
    const model = Buffer.from(identityModel("INT32", ["b", 3])).toString("base64");
    const config = JSON.stringify({
      backend: "onnxruntime",
      max_batch_size: 4,
      input: [{ name: "INPUT0", data_type: "TYPE_INT32", dims: [3] }],
      output: [{ name: "OUTPUT0", data_type: "TYPE_INT32", dims: [3] }],
    });
    const missingConfig = await post("/v2/repository/models/fresh/load", {
      parameters: { "file:1/model.onnx": model },
    });
    expect(missingConfig.status).toBe(400);
    expect((await readJson(missingConfig)).error).toBe(
      "repository: file overrides need the 'config' parameter as well",
    );
    const loaded = await post("/v2/repository/models/fresh/load", {
      parameters: { config, "file:1/model.onnx": model },
    });
    expect(loaded.status).toBe(200);
    const answer = await readJson(
      await post("/v2/models/fresh/infer", {
        inputs: [{ name: "INPUT0", shape: [1, 3], datatype: "INT32", data: [7, 8, 9] }],
      }),
    );
    expect(answer.outputs[0].data).toEqual([7, 8, 9]);
  });

  const traversal: [string, string, unknown][] = [
    ["a model name with ..", "/v2/repository/models/..%2Fescape/load", {}],
    [
      "a file override outside the model",
      "/v2/repository/models/evil/load",
      { parameters: { config: "{}", "file:../../outside.onnx": "AAAA" } },
    ],
    [
      "an absolute file override",
      "/v2/repository/models/evil/load",
      { parameters: { config: "{}", "file:/etc/passwd": "AAAA" } },
    ],
    [
      "a file override climbing from a version",
      "/v2/repository/models/evil/load",
      { parameters: { config: "{}", "file:1/../../../x": "AAAA" } },
    ],
  ];
  for (const [title, path, body] of traversal) {
    it(`refuses ${title}`, async () => {
      const response = await post(path, body);
      expect(response.status).toBe(400);
      expect((await readJson(response)).error).toMatch(
        /invalid model name|would leave the model's directory/,
      );
    });
  }

  it("refuses a repository name in load and unload, as tritonserver does", async () => {
    const response = await post("/v2/repository/other/models/simple/load");
    expect(response.status).toBe(501);
    expect((await readJson(response)).error).toBe(
      "protocol: 'repository_name' specification is not supported",
    );
  });

  it("refuses malformed bodies and parameters", async () => {
    expect((await post("/v2/repository/index", { ready: "yes" })).status).toBe(400);
    const unknown = await post("/v2/repository/models/simple/load", { parameters: { color: "red" } });
    expect((await readJson(unknown)).error).toBe(
      "protocol: unknown load parameter 'color' (config, file:<version>/<path>)",
    );
    const badConfig = await post("/v2/repository/models/simple/load", {
      parameters: { config: "{not json" },
    });
    expect((await readJson(badConfig)).error).toMatch(/^config: load parameter 'config' is not valid JSON/);
  });
});

describe("the load API outside explicit mode", () => {
  it("refuses to load or unload in model control mode none", async () => {
    const other = await startTestServer(repo.root);
    try {
      const response = await fetch(`${other.url}/v2/repository/models/simple/unload`, { method: "POST" });
      expect(response.status).toBe(400);
      expect((await readJson(response)).error).toBe(
        "repository: cannot unload models in model control mode 'none': use --model-control-mode=explicit",
      );
    } finally {
      await other.stop();
    }
  });
});
