import { afterAll, describe, expect, it } from "bun:test";
import { readJson } from "../../support/json.ts";
import { TestRepository } from "../../support/model-repo.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

const repo = new TestRepository();
const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  repo.remove();
});

const config = JSON.stringify({
  backend: "typescript",
  max_batch_size: 0,
  input: [{ name: "X", data_type: "TYPE_INT32", dims: [1] }],
  output: [{ name: "Y", data_type: "TYPE_INT32", dims: [1] }],
});
const code = Buffer.from(
  "export default { execute: (requests) => requests.map((r) => ({ Y: r.inputs.X })) };",
).toString("base64");

async function serve(flags: string[]): Promise<TestServer> {
  const server = await startTestServer(repo.root, ["--model-control-mode=explicit", ...flags]);
  servers.push(server);
  return server;
}

function load(server: TestServer, file: string, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/v2/repository/models/injected/load`, {
    method: "POST",
    headers,
    body: JSON.stringify({ parameters: { config, [`file:${file}`]: code } }),
  });
}

describe("code in the load API's file overrides", () => {
  it("is refused without --allow-code-overrides, whatever the extension's case", async () => {
    const server = await serve([]);
    for (const file of ["1/model.ts", "1/helper.JS", "1/lib/x.mjs", "1/y.cjs"]) {
      const response = await load(server, file);
      expect(response.status).toBe(403);
      expect((await readJson(response)).error).toBe(
        `repository: file override 'file:${file}' carries model code, which the load API accepts only with --allow-code-overrides (and, when restricted APIs are on, with model-repository among them)`,
      );
    }
    expect((await fetch(`${server.url}/v2/models/injected/ready`)).status).toBe(404);
  });

  it("is refused with the flag when restricted APIs are on but leave model-repository open", async () => {
    const server = await serve([
      "--allow-code-overrides",
      "--http-restricted-api=inference:admin-key=s3cret",
    ]);
    expect((await load(server, "1/model.ts")).status).toBe(403);
  });

  it("is accepted with the flag and no restricted APIs, and the model serves", async () => {
    const server = await serve(["--allow-code-overrides"]);
    expect((await load(server, "1/model.ts")).status).toBe(200);
    const answer = await fetch(`${server.url}/v2/models/injected/infer`, {
      method: "POST",
      body: JSON.stringify({ inputs: [{ name: "X", shape: [1], datatype: "INT32", data: [4] }] }),
    });
    expect((await readJson(answer)).outputs[0].data).toEqual([4]);
  });

  it("is accepted with the flag when model-repository is restricted on both protocols, with the key", async () => {
    const server = await serve([
      "--allow-code-overrides",
      "--http-restricted-api=model-repository:admin-key=s3cret",
      "--grpc-restricted-protocol=model-repository:admin-key=s3cret",
    ]);
    expect((await load(server, "1/model.ts")).status).toBe(403);
    expect((await load(server, "1/model.ts", { "admin-key": "s3cret" })).status).toBe(200);
  });
});
