import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { type ClientHttp2Session, connect as connectHttp2 } from "node:http2";
import { connect as connectTcp } from "node:net";
import { gzipSync } from "node:zlib";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { ModelInferRequestSchema, ModelInferResponseSchema } from "../../src/gen/grpc_service_pb.ts";
import { grpcFrame } from "../support/grpc-frame.ts";
import { runGrpcJs } from "../support/grpc-js.ts";
import { readJson } from "../support/json.ts";
import { addIdentities, addSimple, TestRepository } from "../support/model-repo.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";
import { encodeBytesElements } from "../support/v2-binary.ts";
import { parseAnswers } from "./http-wire.ts";

// Issue 16, robustness under hostile input: one table of bad requests over
// HTTP/JSON (and the binary tensor extension), native gRPC and Connect. Each
// row must get a clear error naming what was wrong (an HTTP 4xx with
// {"error": "..."}, or the right gRPC / Connect status with a message), never
// a 500 for the client's mistake; after the table the server must still be
// live and infer on every protocol. A row whose current answer is wrong is
// marked `failing` with what was observed, to lose the mark once fixed.

const LIMIT = 1024 * 1024;
const repo = addIdentities(addSimple(new TestRepository()), ["FP32", "BYTES"]);
let server: TestServer;
let session: ClientHttp2Session;

beforeAll(async () => {
  server = await startTestServer(repo.root, [
    `--http-max-input-size=${LIMIT}`,
    `--grpc-max-message-bytes=${LIMIT}`,
  ]);
  session = connectHttp2(server.grpcUrl);
  session.on("error", () => {});
});
afterAll(async () => {
  session.close();
  await server.stop();
  repo.remove();
});

// ---------------------------------------------------------------- requests

const TIMEOUT_MS = 5000;
const SIXTEEN = Array.from({ length: 16 }, (_, i) => i);
const int32Bytes = (values: number[]) => new Uint8Array(new Int32Array(values).buffer);
const json = (value: unknown) => JSON.stringify(value);

/** A v2 JSON input of `simple`, with overrides. */
const input = (name: string, overrides: Record<string, unknown> = {}) => ({
  name,
  shape: [1, 16],
  datatype: "INT32",
  data: SIXTEEN,
  ...overrides,
});
const simpleJson = (first: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  json({ inputs: [input("INPUT0", first), input("INPUT1")], ...extra });

const SIMPLE_JSON = simpleJson();

/** JSON header + binary chunks: each input's binary_data_size is what it declares, the tail what it sends. */
function binaryBody(
  inputs: { name: string; datatype: string; shape: number[]; size: number | string }[],
  tail: Uint8Array,
  headerLength?: string,
): { body: Uint8Array; headers: Record<string, string> } {
  const header = new TextEncoder().encode(
    json({
      inputs: inputs.map(({ size, ...rest }) => ({ ...rest, parameters: { binary_data_size: size } })),
    }),
  );
  const body = new Uint8Array(header.length + tail.length);
  body.set(header);
  body.set(tail, header.length);
  return {
    body,
    headers: { "inference-header-content-length": headerLength ?? String(header.length) },
  };
}
/** One BYTES input of identity_bytes in binary form, carrying `tail`. */
const bytesBody = (tail: Uint8Array, shape = [1, 1]) =>
  binaryBody([{ name: "INPUT0", datatype: "BYTES", shape, size: tail.length }], tail);
const prefix = (...lengths: number[]) => {
  const out = new Uint8Array(4 * lengths.length);
  lengths.forEach((length, i) => {
    new DataView(out.buffer).setUint32(4 * i, length, true);
  });
  return out;
};
const concat = (...parts: (Uint8Array | string)[]) =>
  Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part) : part)));

/** `[[[...0...]]]` nested `depth` deep. */
const nested = (depth: number) => `${"[".repeat(depth)}0${"]".repeat(depth)}`;
const DEPTH = 500_000;

/** A raw HTTP/1.1 request head; `length` is the Content-Length it claims. */
const head = (method: string, target: string, length?: number, headers: string[] = []) =>
  [
    `${method} ${target} HTTP/1.1`,
    "Host: 127.0.0.1",
    ...headers,
    ...(length === undefined ? [] : [`Content-Length: ${length}`]),
    "",
    "",
  ].join("\r\n");

type InferInit = MessageInitShape<typeof ModelInferRequestSchema>;
const encode = (init: InferInit) => toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, init));
const simpleProto = (
  overrides: { modelName?: string; modelVersion?: string; id?: string; rawInputContents?: Uint8Array[] } = {},
  first: { datatype?: string; shape?: bigint[]; contents?: { intContents: number[] } } = {},
): InferInit => ({
  modelName: "simple",
  inputs: [
    { name: "INPUT0", datatype: "INT32", shape: [1n, 16n], ...first },
    { name: "INPUT1", datatype: "INT32", shape: [1n, 16n] },
  ],
  rawInputContents: [int32Bytes(SIXTEEN), int32Bytes(SIXTEEN)],
  ...overrides,
});
const bytesProto = (raw: Uint8Array, shape = [1n, 1n]): InferInit => ({
  modelName: "identity_bytes",
  inputs: [{ name: "INPUT0", datatype: "BYTES", shape }],
  rawInputContents: [raw],
});
const frame = grpcFrame;
const GARBAGE = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
/** A valid message cut in the middle of a field. */
const TRUNCATED = encode(simpleProto()).subarray(0, 40);

const connectJson = (overrides: Record<string, unknown> = {}, first: Record<string, unknown> = {}) =>
  json({
    modelName: "simple",
    inputs: [
      { name: "INPUT0", datatype: "INT32", shape: ["1", "16"], contents: { intContents: SIXTEEN }, ...first },
      { name: "INPUT1", datatype: "INT32", shape: ["1", "16"], contents: { intContents: SIXTEEN } },
    ],
    ...overrides,
  });

// ---------------------------------------------------------------- the table

type GrpcCode = "INVALID_ARGUMENT" | "NOT_FOUND" | "RESOURCE_EXHAUSTED" | "UNIMPLEMENTED" | "INTERNAL";
const GRPC_CODES: Record<GrpcCode, number> = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
};

interface HttpRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Bytes written as they are on a fresh socket (lying lengths, paths fetch would normalise). */
  raw?: string | Uint8Array;
}
interface GrpcRequest {
  path?: string;
  headers?: Record<string, string>;
  /** The DATA of the stream: gRPC frames, or anything else. */
  body: Uint8Array;
}
interface ConnectRequest {
  method?: string;
  path?: string;
  contentType: string;
  headers?: Record<string, string>;
  body: string | Uint8Array;
}

interface RowBase {
  what: string;
  /** Key words the message must contain (case-insensitive). */
  words: string[];
  /** Set where ferry's current answer is wrong: what it does now. */
  failing?: string;
}
type Row =
  /**
   * `status` "closed": the request never completes, so no answer is due; the
   * connection must close (no 500, no hang). `answeredBy` "bun": Bun's HTTP
   * parser refuses the request before ferry sees it, with a bare status line;
   * only the status and the close are checked.
   */
  | (RowBase & { protocol: "HTTP"; request: HttpRequest; status: number | "closed"; answeredBy?: "bun" })
  /** `status`: the gRPC code, or an HTTP status where the answer is not a gRPC one. */
  | (RowBase & { protocol: "gRPC"; request: GrpcRequest; status: GrpcCode | number })
  | (RowBase & { protocol: "Connect"; request: ConnectRequest; status: GrpcCode | number });

const HTTP_ROWS: Row[] = (
  [
    // malformed and truncated bodies
    { what: "malformed JSON", request: { body: '{"inputs": [}' }, status: 400, words: ["malformed JSON"] },
    {
      what: "a truncated JSON body",
      request: { body: simpleJson().slice(0, 60) },
      status: 400,
      words: ["malformed JSON"],
    },
    { what: "an empty body", request: { body: "" }, status: 400, words: ["JSON"] },
    {
      what: "a body that is not UTF-8 JSON",
      request: { body: new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0x80]) },
      status: 400,
      words: ["malformed JSON"],
    },
    { what: "a JSON array body", request: { body: "[1,2]" }, status: 400, words: ["JSON object"] },
    {
      what: "inputs that are not an array",
      request: { body: '{"inputs": {"INPUT0": 1}}' },
      status: 400,
      words: ["inputs", "array"],
    },
    // lying lengths
    {
      what: "a Content-Length shorter than the body",
      request: { raw: `${head("POST", "/v2/models/simple/infer", 20)}${simpleJson()}` },
      status: 400,
      words: ["malformed JSON"],
    },
    {
      what: "a Content-Length longer than the body, then end of input",
      request: { raw: `${head("POST", "/v2/models/simple/infer", 100_000)}${simpleJson()}` },
      status: "closed",
      words: [],
    },
    {
      what: "a Content-Length that is not a number",
      request: { raw: `${head("POST", "/v2/models/simple/infer", undefined, ["Content-Length: ten"])}{}` },
      answeredBy: "bun",
      status: 400,
      words: [],
    },
    {
      what: "both Content-Length and Transfer-Encoding (smuggling)",
      request: {
        raw: `${head("POST", "/v2/models/simple/infer", 2, ["Transfer-Encoding: chunked"])}2\r\n{}\r\n0\r\n\r\n`,
      },
      answeredBy: "bun",
      status: 400,
      words: [],
    },
    {
      what: "a chunk size that is not hex",
      request: {
        raw: `${head("POST", "/v2/models/simple/infer", undefined, ["Transfer-Encoding: chunked"])}zz\r\n{}\r\n0\r\n\r\n`,
      },
      answeredBy: "bun",
      status: 400,
      words: [],
    },
    {
      what: "an Inference-Header-Content-Length larger than the body",
      request: { body: simpleJson(), headers: { "inference-header-content-length": "100000" } },
      status: 400,
      words: ["Inference-Header-Content-Length", "larger than the body"],
    },
    {
      what: "a negative Inference-Header-Content-Length",
      request: { body: simpleJson(), headers: { "inference-header-content-length": "-1" } },
      status: 400,
      words: ["Inference-Header-Content-Length", "-1"],
    },
    {
      what: "an Inference-Header-Content-Length that is not a number",
      request: { body: simpleJson(), headers: { "inference-header-content-length": "0x20" } },
      status: 400,
      words: ["Inference-Header-Content-Length", "0x20"],
    },
    {
      what: "an Inference-Header-Content-Length cutting the JSON short",
      request: { body: simpleJson(), headers: { "inference-header-content-length": "30" } },
      status: 400,
      words: ["malformed JSON"],
    },
    {
      what: "binary_data_size past the end of the body",
      request: binaryBody([{ name: "INPUT0", datatype: "FP32", shape: [1, 4], size: 16 }], new Uint8Array(8)),
      path: "/v2/models/identity_fp32/infer",
      status: 400,
      words: ["binary_data_size 16", "runs past the end"],
    },
    {
      what: "binary_data_size short of the bytes sent",
      request: binaryBody([{ name: "INPUT0", datatype: "FP32", shape: [1, 2], size: 8 }], new Uint8Array(12)),
      path: "/v2/models/identity_fp32/infer",
      status: 400,
      words: ["12 bytes of binary data", "add up to 8"],
    },
    {
      what: "a negative binary_data_size",
      request: binaryBody([{ name: "INPUT0", datatype: "FP32", shape: [1, 2], size: -8 }], new Uint8Array(8)),
      path: "/v2/models/identity_fp32/infer",
      status: 400,
      words: ["binary_data_size", "non-negative"],
    },
    {
      what: "a binary_data_size that is a string",
      request: binaryBody(
        [{ name: "INPUT0", datatype: "FP32", shape: [1, 2], size: "8" }],
        new Uint8Array(8),
      ),
      path: "/v2/models/identity_fp32/infer",
      status: 400,
      words: ["binary_data_size"],
    },
    {
      what: "binary data that does not match the shape",
      request: binaryBody([{ name: "INPUT0", datatype: "FP32", shape: [1, 3], size: 8 }], new Uint8Array(8)),
      path: "/v2/models/identity_fp32/infer",
      status: 400,
      words: ["8 bytes of FP32", "shape [1,3]"],
    },
    {
      what: "a raw binary body for a two-input model",
      request: { body: int32Bytes(SIXTEEN), headers: { "inference-header-content-length": "0" } },
      status: 400,
      words: ["exactly one input"],
    },
    // shapes
    {
      what: "a shape of [1, 2^40] with JSON data",
      request: { body: simpleJson({ shape: [1, 2 ** 40] }) },
      status: 400,
      words: ["16 values given", "1099511627776"],
    },
    {
      what: "a shape of [1, 2^40] with binary data",
      request: binaryBody(
        [{ name: "INPUT0", datatype: "FP32", shape: [1, 2 ** 40], size: 8 }],
        new Uint8Array(8),
      ),
      path: "/v2/models/identity_fp32/infer",
      status: 400,
      words: ["shape [1,1099511627776]"],
    },
    {
      what: "a negative dimension",
      request: { body: simpleJson({ shape: [1, -16] }) },
      status: 400,
      words: ["shape", "non-negative"],
    },
    {
      what: "a fractional dimension",
      request: { body: simpleJson({ shape: [1, 16.5] }) },
      status: 400,
      words: ["shape", "integers"],
    },
    {
      what: "a shape whose product overflows",
      request: { body: simpleJson({ shape: [2 ** 31, 2 ** 31, 2 ** 31] }) },
      status: 400,
      words: ["16 values given", "shape needs"],
    },
    {
      what: "a shape with a product over 2^53 in binary",
      request: binaryBody(
        [{ name: "INPUT0", datatype: "FP32", shape: [2 ** 30, 2 ** 30, 2 ** 30], size: 8 }],
        new Uint8Array(8),
      ),
      path: "/v2/models/identity_fp32/infer",
      status: 400,
      words: ["do not match shape"],
    },
    {
      what: "a shape that does not match the data length",
      request: { body: simpleJson({ shape: [1, 8] }) },
      status: 400,
      words: ["16 values given", "shape needs 8"],
    },
    {
      what: "a shape that is not the model's",
      request: {
        body: json({
          inputs: [input("INPUT0", { shape: [2, 8] }), input("INPUT1", { shape: [2, 8] })],
        }),
      },
      status: 400,
      words: ["INPUT0", "shape [2,8]"],
    },
    // datatypes
    {
      what: "a wrong datatype",
      request: { body: simpleJson({ datatype: "FP32" }) },
      status: 400,
      words: ["expects INT32", "got FP32"],
    },
    {
      what: "an unknown datatype",
      request: { body: simpleJson({ datatype: "INT128" }) },
      status: 400,
      words: ["unknown datatype", "INT128"],
    },
    {
      what: "a datatype that is not a string",
      request: { body: simpleJson({ datatype: 7 }) },
      status: 400,
      words: ["datatype"],
    },
    {
      what: "a string element in INT32 data",
      request: { body: simpleJson({ data: [...SIXTEEN.slice(1), "1e9"] }) },
      status: 400,
      words: ["element 15", "INT32"],
    },
    // BYTES
    {
      what: "a BYTES length prefix that runs past the end",
      request: bytesBody(concat(prefix(100), "abc")),
      path: "/v2/models/identity_bytes/infer",
      status: 400,
      words: ["claims 100 bytes", "3 remain"],
    },
    {
      what: "a BYTES length prefix of 2^32-1",
      request: bytesBody(concat(prefix(0xffffffff), "abcd")),
      path: "/v2/models/identity_bytes/infer",
      status: 400,
      words: ["claims 4294967295 bytes"],
    },
    {
      what: "BYTES data ending inside a length prefix",
      request: bytesBody(concat(encodeBytesElements(["ab"]), new Uint8Array([1, 0])), [1, 2]),
      path: "/v2/models/identity_bytes/infer",
      status: 400,
      words: ["inside the length prefix", "element 1"],
    },
    {
      what: "fewer BYTES elements than the shape needs",
      request: bytesBody(encodeBytesElements(["a", "b"]), [1, 3]),
      path: "/v2/models/identity_bytes/infer",
      status: 400,
      words: ["got 2 BYTES elements", "needs 3"],
    },
    // compression
    {
      what: "a gzip bomb inflating past --http-max-input-size",
      request: { body: gzipSync(Buffer.alloc(16 * LIMIT)), headers: { "content-encoding": "gzip" } },
      status: 413,
      words: ["decompressed", "--http-max-input-size"],
    },
    {
      what: "Content-Encoding gzip on bytes that are not gzip",
      request: { body: simpleJson(), headers: { "content-encoding": "gzip" } },
      status: 400,
      words: ["not valid gzip"],
    },
    {
      what: "a truncated gzip body",
      request: {
        body: gzipSync(simpleJson()).subarray(0, 30),
        headers: { "content-encoding": "gzip" },
      },
      status: 400,
      words: ["gzip"],
    },
    {
      what: "an unknown Content-Encoding",
      request: { body: simpleJson(), headers: { "content-encoding": "zstd" } },
      // UNIMPLEMENTED, as tritonserver maps an unsupported encoding (and tests/protocol/http/bad-input.test.ts).
      status: 501,
      words: ["Content-Encoding", "zstd"],
    },
    {
      what: "a body over --http-max-input-size",
      request: { body: " ".repeat(LIMIT + 1) },
      status: 413,
      words: ["exceeds the limit", "--http-max-input-size"],
    },
    // nesting bombs
    {
      what: "a JSON nesting depth bomb in data",
      request: {
        body: `{"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"INT32","data":${nested(DEPTH)}}]}`,
      },
      status: 400,
      words: ["INPUT0"],
    },
    {
      what: "a JSON nesting depth bomb at the top",
      request: { body: nested(DEPTH) },
      status: 400,
      words: ["JSON"],
    },
    {
      what: "a JSON nesting depth bomb in parameters",
      request: { body: `{"parameters":{"deep":${nested(DEPTH)}},"inputs":[]}` },
      status: 400,
      words: ["parameters", "deep"],
    },
    // models, versions, methods, paths
    {
      what: "an unknown model",
      request: { body: simpleJson() },
      path: "/v2/models/nope/infer",
      status: 404,
      words: ["unknown model", "nope"],
    },
    {
      what: "an unknown version",
      request: { body: simpleJson() },
      path: "/v2/models/simple/versions/9/infer",
      status: 404,
      words: ["version 9"],
    },
    {
      what: "a negative version",
      request: { body: simpleJson() },
      path: "/v2/models/simple/versions/-1/infer",
      status: 400,
      words: ["version", "-1"],
    },
    {
      what: "a version past 2^53",
      request: { body: simpleJson() },
      path: "/v2/models/simple/versions/99999999999999999999/infer",
      status: 404,
      words: ["99999999999999999999"],
    },
    {
      what: "GET on the infer path",
      request: { method: "GET" },
      status: 405,
      words: ["Method Not Allowed"],
    },
    {
      what: "DELETE on a model",
      request: { method: "DELETE" },
      path: "/v2/models/simple",
      status: 405,
      words: ["Method Not Allowed"],
    },
    {
      what: "POST on /v2/health/live",
      request: { body: "{}" },
      path: "/v2/health/live",
      status: 405,
      words: ["Method Not Allowed"],
    },
    {
      what: "an unknown method name",
      request: { raw: head("BREW", "/v2/models/simple/infer", 0) },
      answeredBy: "bun",
      status: 405,
      words: [],
      failing: "no answer at all: Bun's parser closes the connection on an unknown method token",
    },
    {
      what: "a trailing slash",
      request: { body: simpleJson() },
      path: "/v2/models/simple/infer/",
      status: 404,
      words: ["Not Found"],
    },
    {
      what: "a doubled slash",
      request: { body: simpleJson() },
      path: "/v2//models/simple/infer",
      status: 404,
      words: ["Not Found"],
    },
    {
      what: "a '..' climbing out of /v2",
      request: { raw: `${head("POST", "/v2/../../etc/passwd", SIMPLE_JSON.length)}${SIMPLE_JSON}` },
      status: 404,
      words: ["Not Found"],
    },
    {
      what: "an encoded '..' as the model name",
      request: { raw: `${head("POST", "/v2/models/%2e%2e/infer", SIMPLE_JSON.length)}${SIMPLE_JSON}` },
      status: 404,
      words: ["Not Found"],
    },
    {
      what: "an encoded slash in the model name",
      request: {
        raw: `${head("POST", "/v2/models/simple%2Finfer/infer", SIMPLE_JSON.length)}${SIMPLE_JSON}`,
      },
      status: 404,
      words: ["unknown model", "simple/infer"],
    },
    {
      what: "an encoded NUL in the model name",
      request: { raw: `${head("POST", "/v2/models/simple%00/infer", SIMPLE_JSON.length)}${SIMPLE_JSON}` },
      status: 404,
      words: ["unknown model"],
    },
    {
      what: "a malformed percent-encoding in the model name",
      request: { raw: `${head("POST", "/v2/models/%zz%/infer", SIMPLE_JSON.length)}${SIMPLE_JSON}` },
      status: 400,
      words: ["%zz%"],
    },
    {
      what: "an absolute-form request target",
      request: {
        raw: `${head("POST", "http://evil.example/v2/models/nope/infer", SIMPLE_JSON.length)}${SIMPLE_JSON}`,
      },
      status: 404,
      words: ["unknown model", "nope"],
    },
  ] as (Omit<Extract<Row, { protocol: "HTTP" }>, "protocol"> & { path?: string })[]
).map(({ path, ...row }) => ({
  ...row,
  protocol: "HTTP" as const,
  request: { path, ...row.request },
}));

const GRPC_ROWS: Row[] = (
  [
    // framing
    {
      what: "a frame length prefix larger than the frame",
      request: { body: frame(encode(simpleProto()), 0, 100_000) },
      status: "INVALID_ARGUMENT",
      words: ["incomplete envelope"],
    },
    {
      what: "a frame length prefix over --grpc-max-message-bytes",
      request: { body: frame(new Uint8Array(10), 0, 2 * LIMIT) },
      status: "RESOURCE_EXHAUSTED",
      words: [`message size ${2 * LIMIT}`, "readMaxBytes"],
    },
    {
      what: "a body shorter than the frame prefix",
      request: { body: new Uint8Array([0, 0, 0]) },
      status: "INVALID_ARGUMENT",
      words: ["incomplete envelope"],
    },
    {
      what: "no message at all",
      request: { body: new Uint8Array(0) },
      status: "UNIMPLEMENTED",
      words: ["missing input message"],
    },
    {
      what: "two messages on a unary call",
      request: { body: concat(frame(encode(simpleProto())), frame(encode(simpleProto()))) },
      status: "UNIMPLEMENTED",
      words: ["extra input message"],
    },
    {
      what: "a malformed protobuf message",
      request: { body: frame(GARBAGE) },
      status: "INTERNAL",
      words: ["parse binary"],
    },
    {
      what: "a truncated protobuf message",
      request: { body: frame(TRUNCATED) },
      status: "INTERNAL",
      words: ["parse binary"],
    },
    // compression
    {
      what: "a compressed flag without grpc-encoding",
      request: { body: frame(gzipSync(encode(simpleProto())), 1) },
      status: "INTERNAL",
      words: ["compressed"],
    },
    {
      what: "a gzip bomb inflating past --grpc-max-message-bytes",
      request: { body: frame(gzipSync(Buffer.alloc(16 * LIMIT)), 1), headers: { "grpc-encoding": "gzip" } },
      status: "RESOURCE_EXHAUSTED",
      words: ["readMaxBytes", "after decompression"],
    },
    {
      what: "grpc-encoding gzip on bytes that are not gzip",
      request: { body: frame(encode(simpleProto()), 1), headers: { "grpc-encoding": "gzip" } },
      status: "INVALID_ARGUMENT",
      words: ["decompression failed"],
    },
    {
      what: "an unknown grpc-encoding",
      request: { body: frame(encode(simpleProto()), 1), headers: { "grpc-encoding": "zstd" } },
      status: "UNIMPLEMENTED",
      words: ["zstd"],
    },
    // tensors
    {
      what: "a shape of [1, 2^40]",
      request: { body: frame(encode(simpleProto({}, { shape: [1n, 2n ** 40n] }))) },
      status: "INVALID_ARGUMENT",
      words: ["64 bytes of INT32", "shape [1,1099511627776]"],
    },
    {
      what: "a negative dimension",
      request: { body: frame(encode(simpleProto({}, { shape: [1n, -16n] }))) },
      status: "INVALID_ARGUMENT",
      words: ["negative dimension"],
    },
    {
      what: "a shape whose product overflows int64",
      request: { body: frame(encode(simpleProto({}, { shape: [2n ** 62n, 2n ** 62n, 4n] }))) },
      status: "INVALID_ARGUMENT",
      words: ["INPUT0", "do not match shape"],
    },
    {
      what: "a shape with contents of another length",
      request: {
        body: frame(
          encode(
            simpleProto(
              { rawInputContents: [] },
              { shape: [1n, 2n ** 40n], contents: { intContents: SIXTEEN } },
            ),
          ),
        ),
      },
      status: "INVALID_ARGUMENT",
      words: ["16 values in int_contents", "1099511627776"],
    },
    {
      what: "a shape that does not match the raw data length",
      request: { body: frame(encode(simpleProto({}, { shape: [1n, 8n] }))) },
      status: "INVALID_ARGUMENT",
      words: ["64 bytes of INT32", "needs 32"],
    },
    {
      what: "a wrong datatype",
      request: { body: frame(encode(simpleProto({}, { datatype: "FP32" }))) },
      status: "INVALID_ARGUMENT",
      words: ["expects INT32", "got FP32"],
    },
    {
      what: "an unknown datatype",
      request: { body: frame(encode(simpleProto({}, { datatype: "INT128" }))) },
      status: "INVALID_ARGUMENT",
      words: ["unknown datatype", "INT128"],
    },
    {
      what: "more raw_input_contents than inputs",
      request: {
        body: frame(
          encode(
            simpleProto({ rawInputContents: [int32Bytes(SIXTEEN), int32Bytes(SIXTEEN), int32Bytes([1])] }),
          ),
        ),
      },
      status: "INVALID_ARGUMENT",
      words: ["raw_input_contents has 3 entries"],
    },
    {
      what: "a BYTES length prefix that runs past the end",
      request: { body: frame(encode(bytesProto(concat(prefix(100), "abc")))) },
      status: "INVALID_ARGUMENT",
      words: ["claims 100 bytes", "3 remain"],
    },
    {
      what: "a BYTES length prefix of 2^32-1",
      request: { body: frame(encode(bytesProto(concat(prefix(0xffffffff), "abcd")))) },
      status: "INVALID_ARGUMENT",
      words: ["claims 4294967295 bytes"],
    },
    {
      what: "BYTES data ending inside a length prefix",
      request: { body: frame(encode(bytesProto(new Uint8Array([3, 0])))) },
      status: "INVALID_ARGUMENT",
      words: ["inside the length prefix"],
    },
    // models, methods, headers
    {
      what: "an unknown model",
      request: { body: frame(encode(simpleProto({ modelName: "nope" }))) },
      status: "NOT_FOUND",
      words: ["unknown model", "nope"],
    },
    {
      what: "an unknown version",
      request: { body: frame(encode(simpleProto({ modelVersion: "9" }))) },
      status: "NOT_FOUND",
      words: ["version 9"],
    },
    {
      what: "a version that is not a number",
      request: { body: frame(encode(simpleProto({ modelVersion: "latest" }))) },
      status: "INVALID_ARGUMENT",
      words: ["version", "latest"],
    },
    {
      what: "an unknown method",
      request: { path: "/inference.GRPCInferenceService/ModelBrew", body: frame(new Uint8Array(0)) },
      status: "UNIMPLEMENTED",
      words: ["ModelBrew"],
    },
    {
      what: "an unknown service",
      request: { path: "/evil.Service/ModelInfer", body: frame(new Uint8Array(0)) },
      status: "UNIMPLEMENTED",
      words: ["evil.Service"],
    },
    {
      what: "a content-type that is not gRPC",
      request: { headers: { "content-type": "text/plain" }, body: frame(encode(simpleProto())) },
      status: 415,
      words: [],
    },
    {
      what: "GET instead of POST",
      request: { headers: { ":method": "GET" }, body: new Uint8Array(0) },
      status: 405,
      words: [],
    },
  ] as Omit<Extract<Row, { protocol: "gRPC" }>, "protocol">[]
).map((row) => ({ ...row, protocol: "gRPC" as const }));

const PROTO = "application/proto";
const JSON_TYPE = "application/json";
const CONNECT_ROWS: Row[] = (
  [
    {
      what: "a malformed protobuf body",
      request: { contentType: PROTO, body: GARBAGE },
      status: "INTERNAL",
      words: ["parse binary"],
    },
    {
      what: "a truncated protobuf body",
      request: { contentType: PROTO, body: TRUNCATED },
      status: "INTERNAL",
      words: ["parse binary"],
    },
    {
      what: "malformed JSON",
      request: { contentType: JSON_TYPE, body: '{"modelName": "simple", "inputs": [' },
      status: "INVALID_ARGUMENT",
      words: ["JSON"],
    },
    {
      what: "JSON with a field of the wrong type",
      request: { contentType: JSON_TYPE, body: json({ modelName: 7 }) },
      status: "INVALID_ARGUMENT",
      words: ["model_name", "expected string"],
    },
    {
      what: "a JSON nesting depth bomb",
      request: { contentType: JSON_TYPE, body: `{"modelName":"simple","parameters":{"x":${nested(DEPTH)}}}` },
      status: "INVALID_ARGUMENT",
      words: ["JSON", "InferParameter"],
    },
    {
      what: "a body over --grpc-max-message-bytes",
      request: { contentType: PROTO, body: new Uint8Array(LIMIT + 1) },
      status: "RESOURCE_EXHAUSTED",
      words: ["larger than configured readMaxBytes"],
    },
    {
      // Connect on the HTTP port accepts no compression at all: the bomb is refused unread.
      what: "a gzip bomb",
      request: {
        contentType: PROTO,
        headers: { "content-encoding": "gzip" },
        body: gzipSync(Buffer.alloc(16 * LIMIT)),
      },
      status: "UNIMPLEMENTED",
      words: ["gzip"],
    },
    {
      what: "an unknown Content-Encoding",
      request: { contentType: PROTO, headers: { "content-encoding": "zstd" }, body: encode(simpleProto()) },
      status: "UNIMPLEMENTED",
      words: ["zstd"],
    },
    {
      what: "an unsupported content type",
      request: { contentType: "text/plain", body: connectJson() },
      status: 415,
      words: [],
    },
    {
      what: "GET on ModelInfer",
      request: { method: "GET", contentType: PROTO, body: "" },
      status: 405,
      words: ["Method Not Allowed"],
    },
    {
      what: "an unknown method",
      request: { path: "/inference.GRPCInferenceService/ModelBrew", contentType: PROTO, body: "" },
      status: 404,
      words: ["Not Found"],
    },
    {
      what: "a shape of [1, 2^40] (proto)",
      request: { contentType: PROTO, body: encode(simpleProto({}, { shape: [1n, 2n ** 40n] })) },
      status: "INVALID_ARGUMENT",
      words: ["shape [1,1099511627776]"],
    },
    {
      what: "a shape of [1, 2^40] (JSON)",
      request: { contentType: JSON_TYPE, body: connectJson({}, { shape: ["1", String(2 ** 40)] }) },
      status: "INVALID_ARGUMENT",
      words: ["16 values in int_contents", "1099511627776"],
    },
    {
      what: "a negative dimension",
      request: { contentType: JSON_TYPE, body: connectJson({}, { shape: ["1", "-16"] }) },
      status: "INVALID_ARGUMENT",
      words: ["negative dimension"],
    },
    {
      what: "a shape that is not a number",
      request: { contentType: JSON_TYPE, body: connectJson({}, { shape: ["1", "sixteen"] }) },
      status: "INVALID_ARGUMENT",
      words: ["shape"],
    },
    {
      what: "a wrong datatype",
      request: { contentType: PROTO, body: encode(simpleProto({}, { datatype: "FP32" })) },
      status: "INVALID_ARGUMENT",
      words: ["expects INT32", "got FP32"],
    },
    {
      what: "an out-of-range int_contents value",
      request: {
        contentType: JSON_TYPE,
        body: connectJson(
          {},
          {
            datatype: "INT8",
            contents: { intContents: [...SIXTEEN.slice(1), 1000] },
          },
        ),
      },
      status: "INVALID_ARGUMENT",
      words: ["out of range for INT8"],
    },
    {
      what: "a BYTES length prefix that runs past the end",
      request: { contentType: PROTO, body: encode(bytesProto(concat(prefix(100), "abc"))) },
      status: "INVALID_ARGUMENT",
      words: ["claims 100 bytes"],
    },
    {
      what: "an unknown model",
      request: { contentType: JSON_TYPE, body: connectJson({ modelName: "nope" }) },
      status: "NOT_FOUND",
      words: ["unknown model", "nope"],
    },
    {
      what: "an unknown version",
      request: { contentType: PROTO, body: encode(simpleProto({ modelVersion: "9" })) },
      status: "NOT_FOUND",
      words: ["version 9"],
    },
    {
      what: "a version that is not a number",
      request: { contentType: JSON_TYPE, body: connectJson({ modelVersion: "latest" }) },
      status: "INVALID_ARGUMENT",
      words: ["version", "latest"],
    },
  ] as Omit<Extract<Row, { protocol: "Connect" }>, "protocol">[]
).map((row) => ({ ...row, protocol: "Connect" as const }));

const ROWS: Row[] = [...HTTP_ROWS, ...GRPC_ROWS, ...CONNECT_ROWS];

// ---------------------------------------------------------------- senders

/** What came back, whatever the protocol: a status, and the error message if there was one. */
interface Outcome {
  /** HTTP status; for gRPC the grpc-status too. */
  http: number;
  grpc?: number;
  /** Connect's error code ("invalid_argument"). */
  connectCode?: string;
  message: string;
  /** The whole answer body, for the assertion messages. */
  body: string;
  contentType: string | null;
  /** Raw HTTP only: the server closed the connection. */
  closed?: boolean;
}

async function sendHttp(request: HttpRequest): Promise<Outcome> {
  if (request.raw !== undefined) return sendRaw(request.raw);
  const response = await fetch(`${server.url}${request.path ?? "/v2/models/simple/infer"}`, {
    method: request.method ?? "POST",
    headers: request.headers ?? {},
    body: request.body,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const body = await response.text();
  return {
    http: response.status,
    message: errorOf(body),
    body,
    contentType: response.headers.get("content-type"),
  };
}

/**
 * Writes `raw` on a fresh socket and ends it, then reads the first answer
 * (status 0: none) and whether the server closed the connection, within a
 * second of the answer or TIMEOUT_MS in all.
 */
async function sendRaw(raw: string | Uint8Array): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connectTcp(server.httpPort as number, "127.0.0.1", () => {
      socket.write(raw);
      socket.end();
    });
    let data = Buffer.alloc(0);
    let closed = false;
    let grace: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(grace);
      socket.destroy();
      const answer = parseAnswers(data).answers[0];
      resolve(
        answer
          ? {
              http: answer.status,
              message: errorOf(answer.body),
              body: answer.body,
              contentType: answer.headers["content-type"] ?? null,
              closed,
            }
          : { http: 0, message: "", body: data.toString("latin1"), contentType: null, closed },
      );
    };
    const timer = setTimeout(finish, TIMEOUT_MS);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (grace === undefined && parseAnswers(data).answers.length > 0) grace = setTimeout(finish, 1000);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      closed = true;
      finish();
    });
  });
}

function errorOf(body: string): string {
  try {
    const parsed = JSON.parse(body);
    return typeof parsed?.error === "string" ? parsed.error : "";
  } catch {
    return "";
  }
}

function sendGrpc(request: GrpcRequest): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": request.path ?? "/inference.GRPCInferenceService/ModelInfer",
      "content-type": "application/grpc",
      te: "trailers",
      ...request.headers,
    });
    let http = 0;
    let contentType: string | null = null;
    let status: string | undefined;
    let message = "";
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      stream.close();
      reject(new Error(`no gRPC answer in ${TIMEOUT_MS}ms`));
    }, TIMEOUT_MS);
    const read = (headers: Record<string, unknown>) => {
      if (headers["grpc-status"] !== undefined) status = String(headers["grpc-status"]);
      if (typeof headers["grpc-message"] === "string") message = decodeURIComponent(headers["grpc-message"]);
    };
    stream.on("response", (headers) => {
      http = Number(headers[":status"]);
      contentType = (headers["content-type"] as string | undefined) ?? null;
      read(headers);
    });
    stream.on("trailers", read);
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", () => {});
    stream.on("close", () => {
      clearTimeout(timer);
      const body = Buffer.concat(chunks).toString("latin1");
      resolve({
        http,
        ...(status === undefined ? {} : { grpc: Number(status) }),
        message,
        body,
        contentType,
      });
    });
    stream.end(request.body);
  });
}

async function sendConnect(request: ConnectRequest): Promise<Outcome> {
  const method = request.method ?? "POST";
  const response = await fetch(
    `${server.url}${request.path ?? "/inference.GRPCInferenceService/ModelInfer"}`,
    {
      method,
      headers: {
        "content-type": request.contentType,
        "connect-protocol-version": "1",
        ...request.headers,
      },
      ...(method === "GET" ? {} : { body: request.body }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    },
  );
  const body = await response.text();
  let connectCode: string | undefined;
  let message = "";
  try {
    const parsed = JSON.parse(body);
    if (typeof parsed?.code === "string") connectCode = parsed.code;
    if (typeof parsed?.message === "string") message = parsed.message;
    else if (typeof parsed?.error === "string") message = parsed.error;
  } catch {}
  return {
    http: response.status,
    ...(connectCode === undefined ? {} : { connectCode }),
    message,
    body,
    contentType: response.headers.get("content-type"),
  };
}

// ---------------------------------------------------------------- checks

const expectWords = (message: string, words: string[], outcome: Outcome) => {
  expect(message, `empty message: ${outcome.body.slice(0, 300)}`).not.toBe("");
  for (const word of words) {
    expect(message.toLowerCase(), `"${word}" missing from: ${message}`).toContain(word.toLowerCase());
  }
};

async function check(row: Row): Promise<void> {
  if (row.protocol === "HTTP") {
    const outcome = await sendHttp(row.request);
    if (row.status === "closed" || row.answeredBy === "bun") {
      expect(outcome.http, outcome.body.slice(0, 300)).toBe(row.status === "closed" ? 0 : row.status);
      expect(outcome.closed).toBe(true);
      return;
    }
    expect(outcome.http, outcome.body.slice(0, 300)).toBe(row.status);
    expect(outcome.contentType ?? "").toContain("application/json");
    expect(Object.keys(JSON.parse(outcome.body))).toEqual(["error"]);
    expectWords(outcome.message, row.words, outcome);
    return;
  }
  if (row.protocol === "gRPC") {
    const outcome = await sendGrpc(row.request);
    if (typeof row.status === "number") {
      expect(outcome.http).toBe(row.status);
      return;
    }
    expect(outcome.http).toBe(200);
    expect(outcome.grpc, `${outcome.grpc}: ${outcome.message}`).toBe(GRPC_CODES[row.status]);
    expectWords(outcome.message, row.words, outcome);
    return;
  }
  const outcome = await sendConnect(row.request);
  if (typeof row.status === "number") {
    expect(outcome.http, outcome.body.slice(0, 300)).toBe(row.status);
    if (row.words.length > 0) expectWords(outcome.message, row.words, outcome);
    return;
  }
  expect(outcome.connectCode, `${outcome.http}: ${outcome.body.slice(0, 300)}`).toBe(
    row.status.toLowerCase(),
  );
  expect(outcome.http).toBe(CONNECT_HTTP_STATUS[row.status]);
  expectWords(outcome.message, row.words, outcome);
}

/** Connect protocol: error code → HTTP status (connectrpc.com/docs/protocol#error-codes). */
const CONNECT_HTTP_STATUS: Record<GrpcCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
};

const expected = (row: Row) =>
  row.status === "closed"
    ? "a closed connection"
    : typeof row.status === "number"
      ? `HTTP ${row.status}`
      : row.status;

for (const protocol of ["HTTP", "gRPC", "Connect"] as const) {
  describe(`bad input over ${protocol}`, () => {
    for (const row of ROWS.filter((candidate) => candidate.protocol === protocol)) {
      const test = row.failing ? it.failing : it;
      test(`answers ${row.what} with ${expected(row)}`, () => check(row));
    }
  });
}

// ---------------------------------------------------------------- after the table

describe("after the whole table", () => {
  it("is live", async () => {
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  });

  it("still infers over HTTP JSON and binary", async () => {
    const response = await fetch(`${server.url}/v2/models/simple/infer`, {
      method: "POST",
      body: simpleJson(),
    });
    expect(response.status).toBe(200);
    const outputs = (await readJson(response)).outputs;
    expect(outputs[0].data).toEqual(SIXTEEN.map((i) => 2 * i));
    const binary = binaryBody(
      [{ name: "INPUT0", datatype: "FP32", shape: [1, 2], size: 8 }],
      new Uint8Array(new Float32Array([1.5, -2]).buffer),
    );
    const answer = await fetch(`${server.url}/v2/models/identity_fp32/infer`, {
      method: "POST",
      body: binary.body,
      headers: binary.headers,
    });
    expect(answer.status).toBe(200);
    expect((await readJson(answer)).outputs[0].data).toEqual([1.5, -2]);
  });

  it("still infers over gRPC (raw HTTP/2 and @grpc/grpc-js)", async () => {
    const outcome = await sendGrpc({ body: frame(encode(simpleProto({ id: "after" }))) });
    expect(outcome.grpc).toBe(0);
    const message = Buffer.from(outcome.body, "latin1");
    const response = fromBinary(ModelInferResponseSchema, message.subarray(5));
    expect(response.id).toBe("after");
    const sum = new Uint8Array(response.rawOutputContents[0] as Uint8Array);
    expect(Array.from(new Int32Array(sum.buffer))).toEqual(SIXTEEN.map((i) => 2 * i));
    const grpcJs = await runGrpcJs(server.grpcPort as number, "infer");
    expect(grpcJs.raw.values[0]).toEqual(SIXTEEN.map((i) => i + 2));
  });

  it("still infers over Connect (proto and JSON)", async () => {
    const proto = await fetch(`${server.url}/inference.GRPCInferenceService/ModelInfer`, {
      method: "POST",
      headers: { "content-type": PROTO, "connect-protocol-version": "1" },
      body: encode(simpleProto({ id: "after" })),
    });
    expect(proto.status).toBe(200);
    expect(fromBinary(ModelInferResponseSchema, new Uint8Array(await proto.arrayBuffer())).id).toBe("after");
    const viaJson = await fetch(`${server.url}/inference.GRPCInferenceService/ModelInfer`, {
      method: "POST",
      headers: { "content-type": JSON_TYPE, "connect-protocol-version": "1" },
      body: connectJson({ id: "after-json" }),
    });
    expect(viaJson.status).toBe(200);
    expect((await readJson(viaJson)).id).toBe("after-json");
  });
});
