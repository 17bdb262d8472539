import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { GRPCInferenceService } from "../../src/gen/grpc_service_pb.ts";
import { addIdentities, TestRepository } from "../support/model-repo.ts";
import { addSubModel } from "../support/onnx-builder.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";
import { openSocket, parseAnswers } from "./http-wire.ts";

// Hostile bodies (issue 16) against the default limits: --http-max-input-size 64 MiB,
// --http-max-json-bytes 8 MiB, --http-max-json-elements 1 Mi, --http-max-inflight-bytes 256 MiB.
const MiB = 1024 * 1024;
const repo = addIdentities(new TestRepository()).addModel("addsub", {
  config: `backend: "onnxruntime"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1, -1 ] }, { name: "INPUT1" data_type: TYPE_FP32 dims: [ -1, -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1, -1 ] }, { name: "OUTPUT1" data_type: TYPE_FP32 dims: [ -1, -1 ] } ]`,
  versions: { 1: addSubModel("FP32", ["a", "b"]) },
});
let server: TestServer;
const infer = () => `${server.url}/v2/models/identity_fp32/infer`;

beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

/** `{"inputs":[... FP32 [1, n] of zeros ...]}` as text: 2 bytes per element. */
function zerosBody(n: number): string {
  return `{"inputs":[{"name":"INPUT0","shape":[1,${n}],"datatype":"FP32","data":[${"0,".repeat(n - 1)}0]}]}`;
}

/** Polls /v2/health/live while `work` runs; resolves to the slowest answer in ms. */
async function slowestProbe(work: Promise<unknown>): Promise<number> {
  let done = false;
  let slowest = 0;
  const probing = (async () => {
    while (!done) {
      const start = performance.now();
      const response = await fetch(`${server.url}/v2/health/live`);
      expect(response.status).toBe(200);
      slowest = Math.max(slowest, performance.now() - start);
      await Bun.sleep(5);
    }
  })();
  try {
    await work;
  } finally {
    done = true;
    await probing;
  }
  return slowest;
}

async function expectValidInfer(): Promise<void> {
  const response = await fetch(infer(), {
    method: "POST",
    body: JSON.stringify({ inputs: [{ name: "INPUT0", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }] }),
  });
  expect(response.status).toBe(200);
  expect(((await response.json()) as { outputs: { data: number[] }[] }).outputs[0]?.data).toEqual([1, 2, 3]);
}

describe("hostile HTTP bodies", () => {
  it("refuses a gzip bomb (63 KB → 64 MB of JSON) at --http-max-json-bytes while health stays answered", async () => {
    const bomb = gzipSync(zerosBody(32 * MiB - 64)); // just under --http-max-input-size
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    const round = () =>
      Promise.all(
        Array.from({ length: 4 }, async () => {
          const response = await fetch(infer(), {
            method: "POST",
            body: bomb,
            headers: { "content-encoding": "gzip" },
          });
          expect(response.status).toBe(413);
          expect(((await response.json()) as { error: string }).error).toMatch(
            /decompressed request body .* exceeds the limit of 8388608 bytes \(--http-max-json-bytes\)/,
          );
        }),
      );
    const slowest = await slowestProbe(
      (async () => {
        for (let i = 0; i < 3; i++) await round();
      })(),
    );
    // Generous: not a performance target, only "the loop was not stalled for seconds".
    expect(slowest).toBeLessThan(500);
    await expectValidInfer();
  });

  it("refuses plain JSON over --http-max-json-bytes and over --http-max-json-elements", async () => {
    const big = zerosBody(5 * MiB); // 10 MiB
    const dense = zerosBody((3 * MiB) / 2); // 3 MiB, 1.5 Mi values
    const slowest = await slowestProbe(
      Promise.all([
        ...Array.from({ length: 4 }, async () => {
          const response = await fetch(infer(), { method: "POST", body: big });
          expect(response.status).toBe(413);
          expect(((await response.json()) as { error: string }).error).toMatch(
            /request body of \d+ bytes exceeds the limit of 8388608 bytes \(--http-max-json-bytes\); send large tensors as binary data/,
          );
        }),
        ...Array.from({ length: 4 }, async () => {
          const response = await fetch(infer(), { method: "POST", body: dense });
          expect(response.status).toBe(413);
          expect(((await response.json()) as { error: string }).error).toMatch(
            /holds about \d+ values, over the limit of 1048576 \(--http-max-json-elements\)/,
          );
        }),
      ]),
    );
    expect(slowest).toBeLessThan(500);
    await expectValidInfer();
  });

  it("holds the JSON header of a binary request to --http-max-json-bytes, not its tensor data", async () => {
    const header = new TextEncoder().encode(`${JSON.stringify({ id: "x".repeat(9 * MiB) })}`);
    const response = await fetch(infer(), {
      method: "POST",
      body: header,
      headers: { "inference-header-content-length": String(header.byteLength) },
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toMatch(
      /JSON part .* \(--http-max-json-bytes\)/,
    );
    // 12 MiB of binary FP32 data is fine.
    const n = 3 * MiB;
    const json = new TextEncoder().encode(
      JSON.stringify({
        inputs: [
          { name: "INPUT0", shape: [1, n], datatype: "FP32", parameters: { binary_data_size: 4 * n } },
        ],
        outputs: [{ name: "OUTPUT0", parameters: { binary_data: true } }],
      }),
    );
    const ok = await fetch(infer(), {
      method: "POST",
      body: Buffer.concat([json, new Uint8Array(4 * n)]),
      headers: { "inference-header-content-length": String(json.byteLength) },
    });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
  });

  it("refuses a request 'id' over 64 KiB", async () => {
    const response = await fetch(infer(), {
      method: "POST",
      body: JSON.stringify({
        id: "x".repeat(65 * 1024),
        inputs: [{ name: "INPUT0", shape: [1, 1], datatype: "FP32", data: [1] }],
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe(
      "protocol: request 'id' is 66560 bytes, over the limit of 65536 bytes",
    );
  });

  it("answers 503 with Retry-After past --http-max-inflight-bytes without reading the body, and releases on abort", async () => {
    // Four binary requests declare 64 MiB each (the whole 256 MiB budget) and send 1 byte.
    const head = (length: number) =>
      `POST /v2/models/identity_fp32/infer HTTP/1.1\r\nHost: x\r\nInference-Header-Content-Length: 2\r\nContent-Length: ${length}\r\n\r\n{`;
    const holders: Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const socket = await openSocket(server.httpPort as number);
      socket.write(head(64 * MiB));
      holders.push(socket);
    }
    await Bun.sleep(200);
    const refused = await fetch(infer(), {
      method: "POST",
      body: JSON.stringify({ inputs: [{ name: "INPUT0", shape: [1, 1], datatype: "FP32", data: [1] }] }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as { error: string }).error).toMatch(
      /exceed the limit of 268435456 bytes \(--http-max-inflight-bytes\)/,
    );
    // Over the raw wire the answer comes before the (never sent) body.
    const fifth = await openSocket(server.httpPort as number);
    const answered = new Promise<string>((resolve) => {
      let data = Buffer.alloc(0);
      fifth.on("data", (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        const [answer] = parseAnswers(data).answers;
        if (answer) resolve(`${answer.status} ${answer.body}`);
      });
    });
    fifth.write(head(1024));
    expect(await answered).toMatch(/^503 .*--http-max-inflight-bytes/);
    fifth.destroy();
    for (const socket of holders) socket.destroy();
    await Bun.sleep(200);
    await expectValidInfer();
  });
});

describe("Connect and gRPC-web on port 8000", () => {
  it("obey --http-max-input-size (64 MiB), not --grpc-max-message-bytes (256 MiB)", async () => {
    const client = createClient(
      GRPCInferenceService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    );
    const request = (bytes: number) => ({
      modelName: "identity_fp32",
      inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1n, BigInt(bytes / 4)] }],
      rawInputContents: [new Uint8Array(bytes)],
    });
    const error = await client.modelInfer(request(65 * MiB)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((error as ConnectError).message).toMatch(/larger than configured readMaxBytes 67108864/);
    const ok = await client.modelInfer(request(1024));
    expect(ok.rawOutputContents[0]?.byteLength).toBe(1024);
  });
});

describe("gRPC", () => {
  it("refuses an 'id' over 64 KiB with INVALID_ARGUMENT naming the field", async () => {
    const client = createClient(GRPCInferenceService, createGrpcTransport({ baseUrl: server.grpcUrl }));
    const error = await client
      .modelInfer({
        modelName: "identity_fp32",
        id: "x".repeat(1024 * 1024),
        inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1n, 1n] }],
        rawInputContents: [new Uint8Array(4)],
      })
      .catch((caught: unknown) => caught);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toBe(
      "protocol: request 'id' is 1048576 bytes, over the limit of 65536 bytes",
    );
  });
});

describe("an onnxruntime failure caused by the client's shapes", () => {
  // As tritonserver's onnxruntime backend: every OrtStatus from Run is TRITONSERVER_ERROR_INTERNAL, so 500.
  it("is a 500 naming onnxruntime, as in tritonserver", async () => {
    const response = await fetch(`${server.url}/v2/models/addsub/infer`, {
      method: "POST",
      body: JSON.stringify({
        inputs: [
          { name: "INPUT0", shape: [2, 3], datatype: "FP32", data: [1, 2, 3, 4, 5, 6] },
          { name: "INPUT1", shape: [2, 2], datatype: "FP32", data: [1, 2, 3, 4] },
        ],
      }),
    });
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: string }).error).toMatch(
      /^backend: onnxruntime failed in addsub_\d: .*broadcast/,
    );
  });
});
