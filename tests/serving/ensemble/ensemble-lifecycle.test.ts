import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { addEnsemble, addEnsembles, ensembleConfig } from "../../support/ensembles.ts";
import { readJson } from "../../support/json.ts";
import { TestRepository } from "../../support/model-repo.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";
import { until } from "../../support/until.ts";

const INT = (name: string) => `{ name: "${name}" data_type: TYPE_INT32 dims: [ 16 ] }`;
const TENSORS = `input [ ${INT("INPUT0")}, ${INT("INPUT1")} ] output [ ${INT("OUTPUT0")}, ${INT("OUTPUT1")} ]`;
const step = (model: string) => ({
  model,
  inputs: { INPUT0: "INPUT0", INPUT1: "INPUT1" },
  outputs: { OUTPUT0: "OUTPUT0", OUTPUT1: "OUTPUT1" },
});

const repo = addEnsembles(new TestRepository());
addEnsemble(
  repo,
  "with_instances",
  ensembleConfig("with_instances", TENSORS, [step("add_sub")], "instance_group [ { count: 2 } ]"),
);
addEnsemble(
  repo,
  "with_warmup",
  ensembleConfig("with_warmup", TENSORS, [step("add_sub")], 'model_warmup [ { name: "w" batch_size: 1 } ]'),
);
addEnsemble(
  repo,
  "bad_map",
  ensembleConfig("bad_map", TENSORS, [
    { ...step("add_sub"), inputs: { INPUT0: "INPUT0", INPUT9: "INPUT1" } },
  ]),
);
addEnsemble(repo, "loop_a", ensembleConfig("loop_a", TENSORS, [step("loop_b")]));
addEnsemble(repo, "loop_b", ensembleConfig("loop_b", TENSORS, [step("loop_a")]));

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(repo.root, [
    "--model-control-mode=explicit",
    "--load-model=ensemble_add_sub",
  ]);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

const post = (path: string, body = "{}") => fetch(`${server.url}${path}`, { method: "POST", body });
async function index(): Promise<Record<string, { state: string; reason: string }>> {
  const rows = await readJson(await post("/v2/repository/index"));
  return Object.fromEntries(
    rows.map((row: { name: string; state: string; reason: string }) => [row.name, row]),
  );
}
const infer = () =>
  post(
    "/v2/models/ensemble_add_sub/infer",
    JSON.stringify({
      inputs: ["INPUT0", "INPUT1"].map((name) => ({
        name,
        shape: [1, 16],
        datatype: "INT32",
        data: Array(16).fill(2),
      })),
    }),
  );

describe("ensemble lifecycle in explicit mode", () => {
  it("loads the composing models an ensemble needs", async () => {
    const rows = await index();
    expect(rows.ensemble_add_sub?.state).toBe("READY");
    expect(rows.add_sub?.state).toBe("READY");
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  });

  it("makes the ensemble UNAVAILABLE with the reason while a composing model is unloaded, and serves again once it is back", async () => {
    expect((await post("/v2/repository/models/add_sub/unload")).status).toBe(200);
    await until("add_sub unloaded", async () => (await index()).add_sub?.state === "UNAVAILABLE");
    const row = (await index()).ensemble_add_sub;
    expect(row?.state).toBe("UNAVAILABLE");
    expect(row?.reason).toStartWith("composing model 'add_sub' is not available: ");
    const report = await readJson(await fetch(`${server.url}/v2/health/ready?verbose=true`));
    const ensemble = report.models.find((model: { name: string }) => model.name === "ensemble_add_sub");
    expect(ensemble.ready).toBe(false);
    expect(report.ready).toBe(false);
    expect((await fetch(`${server.url}/v2/models/ensemble_add_sub/ready`)).status).toBe(400);
    const refused = await infer();
    expect(refused.status).toBe(404);
    expect((await readJson(refused)).error).toContain("ensemble 'ensemble_add_sub' step 0 (model 'add_sub')");

    expect((await post("/v2/repository/models/add_sub/load")).status).toBe(200);
    expect((await index()).ensemble_add_sub?.state).toBe("READY");
    expect((await infer()).status).toBe(200);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  });

  it("refuses ensembles with instance groups or warm-up of their own", async () => {
    for (const [model, field] of [
      ["with_instances", "instance_group: must be empty for an ensemble"],
      ["with_warmup", "model_warmup: must be empty for an ensemble"],
    ] as const) {
      const response = await post(`/v2/repository/models/${model}/load`);
      expect(response.status).toBe(400);
      expect((await readJson(response)).error).toContain(field);
    }
  });

  it("refuses an ensemble whose steps do not fit its composing models, naming the step", async () => {
    const response = await post("/v2/repository/models/bad_map/load");
    expect(response.status).toBe(400);
    const { error } = await readJson(response);
    expect(error).toContain("ensemble 'bad_map': step 0 (model 'add_sub'): input_map names input 'INPUT9'");
    expect((await index()).bad_map?.reason).toContain("input 'INPUT1' is not mapped by input_map");
  });

  it("refuses ensembles that compose each other, without hanging", async () => {
    const response = await post("/v2/repository/models/loop_a/load");
    expect(response.status).toBe(400);
    const rows = await index();
    expect(rows.loop_a?.state).toBe("UNAVAILABLE");
    expect(rows.loop_b?.reason).toContain("model 'loop_b' runs on 'loop_a', which runs on it in turn");
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  });
});
