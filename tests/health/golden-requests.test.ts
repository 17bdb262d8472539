import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readJson } from "../support/json.ts";
import { TestRepository } from "../support/model-repo.ts";
import { buildOnnxModel, identityModel } from "../support/onnx-builder.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";
import { until } from "../support/until.ts";

const CONFIG = `max_batch_size: 4 input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [-1] }] output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [-1] }]
instance_group [{ kind: KIND_CPU count: 2 }]`;
const GOLDEN = JSON.stringify({
  requests: [
    {
      name: "one two three",
      inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }],
      outputs: [{ name: "OUTPUT0", shape: [1, 3], data: [1, 2, 3], tolerance: 0.001 }],
    },
  ],
});
/** OUTPUT0 = INPUT0 + INPUT0: the same interface, the wrong answers. */
const doubling = buildOnnxModel({
  inputs: [{ name: "INPUT0", datatype: "FP32", shape: ["b", "n"] }],
  outputs: [{ name: "OUTPUT0", datatype: "FP32", shape: ["b", "n"] }],
  nodes: [{ op: "Add", inputs: ["INPUT0", "INPUT0"], outputs: ["OUTPUT0"] }],
});

const repo = new TestRepository()
  .addModel("m", {
    config: CONFIG,
    versions: { 1: identityModel("FP32", ["b", "n"]) },
    extra: { "golden.json": GOLDEN },
  })
  .addModel("bad_golden", {
    config: CONFIG,
    versions: { 1: identityModel("FP32", ["b", "n"]) },
    extra: {
      "golden.json": JSON.stringify({
        requests: [
          {
            inputs: [{ name: "INPUT0", datatype: "FP33", shape: [1], data: [1] }],
            outputs: [{ name: "OUTPUT0", data: [1] }],
          },
        ],
      }),
    },
  });
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(repo.root, ["--model-control-mode=poll", "--repository-poll-secs=1"]);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

async function versionReport(model: string, version: string) {
  const report = await readJson(await fetch(`${server.url}/v2/health/ready?verbose=true`));
  const entry = report.models.find((candidate: { name: string }) => candidate.name === model);
  return entry?.versions.find((candidate: { version: string }) => candidate.version === version);
}
const checkOf = (version: { checks: { name: string }[] }, name: string) =>
  version.checks.find((check) => check.name === name) as { status: string; detail: string } | undefined;

describe("golden requests (golden.json beside config.pbtxt)", () => {
  it("run once per instance before a version serves, and make the synthetic check use real inputs", async () => {
    const version = await versionReport("m", "1");
    expect(version.state).toBe("READY");
    expect(checkOf(version, "golden")).toMatchObject({
      status: "PASS",
      detail: "1 golden request(s), 2 run(s) each: every output as expected",
    });
    expect(checkOf(version, "synthetic_inference")?.status).toBe("PASS");
  });

  it("keep the old version serving when a candidate answers differently, showing which output and by how much", async () => {
    mkdirSync(join(repo.root, "m", "2"));
    writeFileSync(join(repo.root, "m", "2", "model.onnx"), doubling);
    await until(
      "version 2 was refused",
      async () => (await versionReport("m", "2"))?.state === "UNAVAILABLE",
      15_000,
    );
    const refused = await versionReport("m", "2");
    expect(checkOf(refused, "golden")).toMatchObject({
      status: "FAIL",
      detail:
        "golden request 'one two three' (run 1 of 2): output 'OUTPUT0' element 0: got 2, expected 1 (differs by 1.00, tolerance 0.00100); output 'OUTPUT0' element 1: got 4, expected 2 (differs by 2.00, tolerance 0.00100); output 'OUTPUT0' element 2: got 6, expected 3 (differs by 3.00, tolerance 0.00100)",
    });
    const answer = await readJson(
      await fetch(`${server.url}/v2/models/m/infer`, {
        method: "POST",
        body: JSON.stringify({ inputs: [{ name: "INPUT0", shape: [1, 2], datatype: "FP32", data: [5, 6] }] }),
      }),
    );
    expect(answer.model_version).toBe("1");
    expect(answer.outputs[0].data).toEqual([5, 6]);
  });

  it("refuse a malformed golden.json, naming the file and the field", async () => {
    const rows = await readJson(
      await fetch(`${server.url}/v2/repository/index`, { method: "POST", body: "{}" }),
    );
    const row = rows.find((candidate: { name: string }) => candidate.name === "bad_golden");
    expect(row.state).toBe("UNAVAILABLE");
    expect(row.reason).toBe(
      "config: bad_golden/golden.json: requests[0].inputs[0].datatype: 'FP33' is not a datatype",
    );
  });
});
