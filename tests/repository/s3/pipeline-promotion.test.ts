import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { runPromote, runRollback } from "../../../src/cli/promote.ts";
import { runStatus } from "../../../src/cli/status.ts";
import { readJson } from "../../support/json.ts";
import { TestRepository } from "../../support/model-repo.ts";
import { S3rver } from "../../support/s3rver.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";
import { until } from "../../support/until.ts";

/**
 * A pipeline — ensemble `pipe` over two TypeScript models that each write
 * their own version into the answer — promoted as one set: every response
 * names the versions that made it, so a mixed set cannot hide.
 */
const s3 = new S3rver();
let server: TestServer;
const quiet = { out: () => undefined, err: () => undefined };
const repository = () => s3.url("repo");
const promote = (args: string[]) => runPromote([...args, `--repository=${repository()}`], quiet);

const INT = (name: string, dims: number) => `{ name: "${name}" data_type: TYPE_INT32 dims: [ ${dims} ] }`;
const stageA = (version: number) =>
  `export default { execute: (requests) => requests.map(() => ({ A: { datatype: "INT32", shape: [1], data: new Int32Array([${version}]) } })) };`;
const stageB = (version: number) =>
  version === 3
    ? `export default { initialize() { throw new Error("stage_b 3 cannot start"); }, execute: () => [] };`
    : `export default { execute: (requests) => requests.map((r) => ({ B: { datatype: "INT32", shape: [2], data: new Int32Array([r.inputs.A.data[0], ${version}]) } })) };`;

beforeAll(async () => {
  await s3.start();
  const repo = new TestRepository()
    .addModel("stage_a", {
      config: `backend: "typescript" max_batch_size: 0 input [ ${INT("X", 1)} ] output [ ${INT("A", 1)} ]`,
      extra: { "1/model.ts": stageA(1), "2/model.ts": stageA(2) },
    })
    .addModel("stage_b", {
      config: `backend: "typescript" max_batch_size: 0 input [ ${INT("A", 1)} ] output [ ${INT("B", 2)} ]`,
      extra: { "1/model.ts": stageB(1), "2/model.ts": stageB(2), "3/model.ts": stageB(3) },
    })
    .addModel("pipe", {
      config: `platform: "ensemble" max_batch_size: 0 input [ ${INT("X", 1)} ] output [ ${INT("B", 2)} ]
ensemble_scheduling { step [
  { model_name: "stage_a" model_version: -1 input_map { key: "X" value: "X" } output_map { key: "A" value: "A" } },
  { model_name: "stage_b" model_version: -1 input_map { key: "A" value: "A" } output_map { key: "B" value: "B" } }
] }`,
      extra: { "1/.keep": "", "2/.keep": "", "3/.keep": "" },
    });
  await s3.upload(repo.root, "repo/");
  repo.remove();
  expect(await promote(["stage_a", "1"])).toBe(0);
  expect(await promote(["stage_b", "1"])).toBe(0);
  expect(await promote(["pipe", "1"])).toBe(0);
  server = await startTestServer(repository(), ["--model-control-mode=poll", "--repository-poll-secs=1"]);
}, 30_000);
afterAll(async () => {
  await server.stop({ graceSecs: 0 });
  await s3.remove();
});

async function answer(): Promise<string> {
  const response = await fetch(`${server.url}/v2/models/pipe/infer`, {
    method: "POST",
    body: JSON.stringify({ inputs: [{ name: "X", shape: [1], datatype: "INT32", data: [0] }] }),
  });
  const body = await readJson(response);
  return response.ok ? body.outputs[0].data.join("+") : `error ${response.status}: ${body.error}`;
}

async function index(): Promise<{ name: string; version?: string; state?: string; reason?: string }[]> {
  return readJson(await fetch(`${server.url}/v2/repository/index`, { method: "POST", body: "{}" }));
}

describe("promoting a pipeline as one set", () => {
  it("serves the set the entry's manifest pins", async () => {
    expect(await answer()).toBe("1+1");
  });

  it("switches the ensemble and its models together under load: no failure, no mixed set", async () => {
    const seen = new Set<string>();
    let running = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (running) seen.add(await answer());
    });
    expect(await promote(["pipe", "2", "--with=stage_a=2", "--with=stage_b=2"])).toBe(0);
    await until("the new set answers", () => seen.has("2+2"), 20_000);
    await Bun.sleep(300);
    running = false;
    await Promise.all(loops);
    expect([...seen].sort()).toEqual(["1+1", "2+2"]);
    // The models' own manifests still say version 1: clients calling them directly are unaffected.
    const direct = await fetch(`${server.url}/v2/models/stage_a/infer`, {
      method: "POST",
      body: JSON.stringify({ inputs: [{ name: "X", shape: [1], datatype: "INT32", data: [0] }] }),
    });
    expect((await readJson(direct)).outputs[0].data).toEqual([1]);
  }, 30_000);

  it("keeps the whole old set serving when a model of the new set fails, showing why per model", async () => {
    expect(await promote(["pipe", "3", "--with=stage_a=2", "--with=stage_b=3"])).toBe(0);
    await until(
      "pipe 3 was refused",
      async () =>
        (await index()).some(
          (row) => row.name === "pipe" && row.version === "3" && row.state === "UNAVAILABLE",
        ),
      20_000,
    );
    const rows = await index();
    const pipe3 = rows.find((row) => row.name === "pipe" && row.version === "3");
    expect(pipe3?.reason).toStartWith("pipeline: model 'stage_b' version 3 failed: ");
    expect(pipe3?.reason).toContain("stage_b 3 cannot start");
    const stageB3 = rows.find((row) => row.name === "stage_b" && row.version === "3");
    expect(stageB3?.state).toBe("UNAVAILABLE");
    expect(stageB3?.reason).toContain("stage_b 3 cannot start");
    expect(await answer()).toBe("2+2");
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  }, 30_000);

  it("rolls the whole set back, and ferry status shows the set per model", async () => {
    expect(await runRollback(["pipe", "--to-revision=1", `--repository=${repository()}`], quiet)).toBe(0);
    await until("the first set answers again", async () => (await answer()) === "1+1", 20_000);
    let text = "";
    const output = { out: (chunk: string) => (text += chunk), err: (chunk: string) => (text += chunk) };
    const code = await runStatus(["pipe", `--repository=${repository()}`, `--server=${server.url}`], output);
    expect(text).toContain("serving: version 1 (100%; pipeline: stage_a 1, stage_b 1)");
    expect(text).toContain("in sync");
    expect(text).toContain("* version 1's pipeline: stage_a version 1: READY");
    expect(text).toContain("* version 1's pipeline: stage_b version 1: READY");
    expect(code).toBe(0);
  }, 30_000);
});
