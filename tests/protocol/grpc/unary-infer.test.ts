import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { type ClientHttp2Session, connect, type IncomingHttpHeaders } from "node:http2";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { ModelInferRequestSchema, ModelInferResponseSchema } from "../../../src/gen/grpc_service_pb.ts";
import { grpcFrame } from "../../support/grpc-frame.ts";
import { addIdentities, addSimple, TestRepository } from "../../support/model-repo.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

// The ModelInfer fast path (src/protocol/grpc/unary-infer.ts) on the wire, with a bare
// node:http2 client that can send what real clients never do.
const repo = addIdentities(addSimple(new TestRepository()));
const LIMIT = 4096;
const KEY = { "triton-grpc-protocol-infer-key": "yes" };
let server: TestServer;
let session: ClientHttp2Session;

beforeAll(async () => {
  server = await startTestServer(repo.root, [
    `--grpc-max-message-bytes=${LIMIT}`,
    "--grpc-restricted-protocol=inference:infer-key=yes",
  ]);
  session = connect(server.grpcUrl);
});
afterAll(async () => {
  session.close();
  await server.stop();
  repo.remove();
});

interface Answer {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  body: Buffer;
}

/** One call; `body` is written as it is, then the stream ends unless `keepOpen`. */
function call(body: Uint8Array, extra: Record<string, string> = KEY, keepOpen = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/inference.GRPCInferenceService/ModelInfer",
      "content-type": "application/grpc",
      te: "trailers",
      ...extra,
    });
    const answer: Answer = { headers: {}, trailers: {}, body: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    stream.on("response", (headers) => {
      const { date: _, ...rest } = headers;
      answer.headers = rest;
    });
    stream.on("trailers", (trailers) => {
      answer.trailers = trailers;
      // A refused call is answered whole before its body is; it need not finish sending.
      if (keepOpen) stream.close();
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("close", () => resolve({ ...answer, body: Buffer.concat(chunks) }));
    if (keepOpen) stream.write(body);
    else stream.end(body);
  });
}

const frame = grpcFrame;

const encode = (init: MessageInitShape<typeof ModelInferRequestSchema>) =>
  toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, init));

const int32Request = (values: number[], id = "") =>
  encode({
    modelName: "identity_int32",
    id,
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1n, BigInt(values.length)] }],
    rawInputContents: [new Uint8Array(new Int32Array(values).buffer)],
  });

function decodeAnswer(answer: Answer) {
  expect(answer.trailers["grpc-status"]).toBe("0");
  expect(answer.body.readUInt32BE(1)).toBe(answer.body.length - 5);
  return fromBinary(ModelInferResponseSchema, answer.body.subarray(5));
}

describe("gRPC ModelInfer fast path", () => {
  it("answers byte for byte as the connect path does", async () => {
    const body = frame(int32Request([1, -2, 3], "same"));
    const fast = await call(body);
    // A deadline sends the call through connect-node instead.
    const connect = await call(body, { ...KEY, "grpc-timeout": "30S" });
    expect(fast).toEqual(connect);
    expect(fast.headers).toMatchObject({ ":status": 200, "content-type": "application/grpc+proto" });
    const response = decodeAnswer(fast);
    expect(response).toMatchObject({ modelName: "identity_int32", modelVersion: "1", id: "same" });
    expect(Array.from(new Int32Array(new Uint8Array(response.rawOutputContents[0] ?? []).buffer))).toEqual([
      1, -2, 3,
    ]);
  });

  it("never compresses tensor data, even for a client that accepts gzip (as HTTP binary answers)", async () => {
    const answer = await call(frame(int32Request(Array(512).fill(0))), {
      ...KEY,
      "grpc-accept-encoding": "identity,deflate,gzip",
    });
    expect(answer.headers["grpc-encoding"]).toBeUndefined();
    expect(decodeAnswer(answer).rawOutputContents[0]).toHaveLength(2048);
  });

  it("keeps concurrent calls apart (their tensors are views of the received bytes)", async () => {
    const values = Array.from({ length: 48 }, (_, call) =>
      Array.from({ length: 8 }, (_, i) => call * 100 + i),
    );
    const answers = await Promise.all(values.map((row, index) => call(frame(int32Request(row, `${index}`)))));
    for (const [index, answer] of answers.entries()) {
      const response = decodeAnswer(answer);
      expect(response.id).toBe(`${index}`);
      const raw = new Uint8Array(response.rawOutputContents[0] ?? []);
      expect(Array.from(new Int32Array(raw.buffer))).toEqual(values[index] as number[]);
    }
  });

  it("refuses malformed bodies with connect's statuses and messages, and serves the next call", async () => {
    const good = int32Request([7]);
    const cases: [string, Uint8Array, string, string | RegExp][] = [
      ["no message", new Uint8Array(0), "12", "protocol error: missing input message for unary method"],
      ["a partial prefix", new Uint8Array([0, 0, 0]), "3", "protocol error: incomplete envelope"],
      ["a truncated message", frame(good).subarray(0, 10), "3", "protocol error: incomplete envelope"],
      [
        "a declared length over the limit",
        frame(good, 0, LIMIT + 1),
        "8",
        `message size ${LIMIT + 1} is larger than configured readMaxBytes ${LIMIT}`,
      ],
      [
        "a compressed message",
        frame(good, 1),
        "13",
        "received compressed envelope, but do not know how to decompress",
      ],
      [
        "two messages",
        Buffer.concat([frame(good), frame(good)]),
        "12",
        "protocol error: received extra input message for unary method",
      ],
      ["bytes that are not protobuf", frame(new Uint8Array([0xff, 0xff, 0xff])), "13", /^parse binary: /],
    ];
    for (const [what, body, status, message] of cases) {
      const answer = await call(body);
      expect({ what, status: answer.trailers["grpc-status"] }).toEqual({ what, status });
      expect(answer.trailers["grpc-message"]).toMatch(message);
      expect(answer.body.length).toBe(0);
    }
    expect(decodeAnswer(await call(frame(good))).modelName).toBe("identity_int32");
  });

  it("refuses an oversized message as soon as its prefix arrives, before the body is sent", async () => {
    const answer = await call(new Uint8Array([0, 0, 1, 0, 0]), KEY, true);
    expect(answer.trailers["grpc-status"]).toBe("8");
    expect(answer.trailers["grpc-message"]).toBe(
      `message size 65536 is larger than configured readMaxBytes ${LIMIT}`,
    );
  });

  it("answers a call that keeps sending past two messages without waiting for its end", async () => {
    const filler = frame(new Uint8Array(LIMIT - 10));
    const answer = await call(Buffer.concat([frame(int32Request([1])), filler, filler]), KEY, true);
    // The second message is all zeros: not protobuf (field number 0).
    expect(answer.trailers["grpc-status"]).toBe("13");
    expect(answer.trailers["grpc-message"]).toMatch(/^parse binary: /);
  });

  it("answers RESOURCE_EXHAUSTED for an answer over the limit", async () => {
    // 1100 zeros: a byte each as typed contents in, four each as raw data out.
    const request = encode({
      modelName: "identity_int32",
      inputs: [
        {
          name: "INPUT0",
          datatype: "INT32",
          shape: [1n, 1100n],
          contents: { intContents: Array(1100).fill(0) },
        },
      ],
    });
    const answer = await call(frame(request));
    expect(answer.trailers["grpc-status"]).toBe("8");
    expect(answer.trailers["grpc-message"]).toMatch(
      /^message size \d+ is larger than configured writeMaxBytes 4096$/,
    );
  });

  it("applies --grpc-restricted-protocol to ModelInfer", async () => {
    const answer = await call(frame(int32Request([1])), {});
    expect(answer.trailers["grpc-status"]).toBe("14");
    expect(answer.trailers["grpc-message"]).toBe(
      "This protocol is restricted, expecting header 'triton-grpc-protocol-infer-key'",
    );
  });
});
