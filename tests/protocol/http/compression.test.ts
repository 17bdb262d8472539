import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { addIdentities, TestRepository } from "../../support/model-repo.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";
import { encodeBinaryRequest } from "../../support/v2-binary.ts";

const repo = addIdentities(new TestRepository());
const servers: TestServer[] = [];
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(repo.root);
  servers.push(server);
});
afterAll(async () => {
  for (const running of servers) await running.stop();
  repo.remove();
});

const json = (elements: number) =>
  JSON.stringify({
    inputs: [
      { name: "INPUT0", shape: [1, elements], datatype: "FP32", data: new Array(elements).fill(0.25) },
    ],
  });
async function encodingOf(
  target: TestServer,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${target.url}/v2/models/identity_fp32/infer`, {
    method: "POST",
    body,
    headers: { "accept-encoding": "gzip", ...headers },
    decompress: false,
  } as RequestInit);
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  return response.headers.get("content-encoding");
}

describe("response compression (--http-compress-min-bytes, default 16384)", () => {
  it("sends small JSON answers as they are, even to clients that accept gzip", async () => {
    expect(await encodingOf(server, json(16))).toBeNull();
  });

  it("compresses JSON answers from the threshold up", async () => {
    expect(await encodingOf(server, json(8192))).toBe("gzip");
  });

  it("never compresses binary tensor data", async () => {
    const bytes = new Uint8Array(new Float32Array(8192).fill(0.25).buffer);
    const { body, headerLength } = encodeBinaryRequest(
      [{ name: "INPUT0", datatype: "FP32", shape: [1, 8192], bytes }],
      { parameters: { binary_data_output: true } },
    );
    expect(
      await encodingOf(server, body, { "inference-header-content-length": String(headerLength) }),
    ).toBeNull();
  });

  it("follows the flag: 0 never compresses, a low threshold compresses small answers", async () => {
    const never = await startTestServer(repo.root, ["--http-compress-min-bytes=0"]);
    const eager = await startTestServer(repo.root, ["--http-compress-min-bytes=100"]);
    servers.push(never, eager);
    expect(await encodingOf(never, json(8192))).toBeNull();
    expect(await encodingOf(eager, json(64))).toBe("gzip");
  });
});
