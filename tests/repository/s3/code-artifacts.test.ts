import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { runPromote } from "../../../src/cli/promote.ts";
import { readJson } from "../../support/json.ts";
import { TestRepository } from "../../support/model-repo.ts";
import { S3rver } from "../../support/s3rver.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

/**
 * A TypeScript model's code is an artifact like model.onnx: pinned by the
 * promotion manifest, fetched from S3 into the checksum-addressed cache
 * (several files, importing each other), and refused when a file no longer
 * matches its pin.
 */
const s3 = new S3rver();
let server: TestServer;
const quiet = { out: () => undefined, err: () => undefined };
const code = (answer: number) => ({
  "model.ts": `import { answer } from "./answer.ts";\nexport default { execute: (requests) => requests.map(() => ({ Y: { datatype: "INT32", shape: [1], data: new Int32Array([answer]) } })) };`,
  "answer.ts": `export const answer = ${answer};`,
});

beforeAll(async () => {
  await s3.start();
  const files: Record<string, string> = {};
  for (const version of [1, 2]) {
    for (const [name, text] of Object.entries(code(version))) files[`${version}/${name}`] = text;
  }
  const repo = new TestRepository().addModel("tsm", {
    config: `backend: "typescript" max_batch_size: 0 input [ { name: "X" data_type: TYPE_INT32 dims: [ 1 ] } ] output [ { name: "Y" data_type: TYPE_INT32 dims: [ 1 ] } ]`,
    extra: files,
  });
  await s3.upload(repo.root, "repo/");
  repo.remove();
  expect(await runPromote(["tsm", "1", `--repository=${s3.url("repo")}`], quiet)).toBe(0);
  server = await startTestServer(s3.url("repo"), ["--model-control-mode=explicit", "--load-model=tsm"]);
}, 30_000);
afterAll(async () => {
  await server.stop({ graceSecs: 0 });
  await s3.remove();
});

const answer = async () => {
  const response = await fetch(`${server.url}/v2/models/tsm/infer`, {
    method: "POST",
    body: JSON.stringify({ inputs: [{ name: "X", shape: [1], datatype: "INT32", data: [0] }] }),
  });
  return (await readJson(response)).outputs?.[0]?.data?.[0];
};
const load = () => fetch(`${server.url}/v2/repository/models/tsm/load`, { method: "POST", body: "{}" });

describe("TypeScript model code from S3 under a promotion manifest", () => {
  it("serves the pinned code, fetched with the files it imports", async () => {
    expect(await answer()).toBe(1);
  });

  it("refuses a version whose code no longer matches its pin, and keeps serving the old one", async () => {
    expect(await runPromote(["tsm", "2", `--repository=${s3.url("repo")}`], quiet)).toBe(0);
    await s3.put("repo/tsm/2/answer.ts", "export const answer = 666;");
    const refused = await load();
    expect(refused.status).toBe(400);
    expect((await readJson(refused)).error).toContain("repo/tsm/2/answer.ts: checksum mismatch");
    expect(await answer()).toBe(1);
  });

  it("switches to the new code once it matches a promotion again", async () => {
    expect(await runPromote(["tsm", "2", `--repository=${s3.url("repo")}`], quiet)).toBe(0);
    expect((await load()).status).toBe(200);
    expect(await answer()).toBe(666);
  });
});
