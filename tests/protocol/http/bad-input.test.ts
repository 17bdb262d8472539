import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readJson } from "../../support/json.ts";
import { addIdentities, addReshaper, addSimple, TestRepository } from "../../support/model-repo.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

const repo = addReshaper(addIdentities(addSimple(new TestRepository())));
let server: TestServer;
const LIMIT = 4096;

beforeAll(async () => {
  server = await startTestServer(repo.root, [`--http-max-input-size=${LIMIT}`]);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

const ZEROS = new Array(16).fill(0);
const input = (name: string, overrides: Record<string, unknown> = {}) => ({
  name,
  shape: [1, 16],
  datatype: "INT32",
  data: ZEROS,
  ...overrides,
});
const simpleBody = (inputs: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ inputs, ...extra });

/** A binary-extension body whose one FP32 input declares `size` bytes and carries `tail`. */
function binaryBody(
  shape: number[],
  size: number,
  tail: string,
): { body: string; headers: Record<string, string> } {
  const header = JSON.stringify({
    inputs: [{ name: "INPUT0", shape, datatype: "FP32", parameters: { binary_data_size: size } }],
  });
  return { body: header + tail, headers: { "inference-header-content-length": String(header.length) } };
}

interface Case {
  title: string;
  path?: string;
  body: string | Uint8Array;
  headers?: Record<string, string>;
  status: number;
  error: RegExp;
}

const CASES: Case[] = [
  {
    title: "malformed JSON",
    body: '{"inputs": [',
    status: 400,
    error: /^protocol: malformed JSON in request body/,
  },
  {
    title: "a body that is not an object",
    body: "[1,2]",
    status: 400,
    error: /^protocol: request body must be a JSON object/,
  },
  {
    title: "inputs that are not an array",
    body: '{"inputs": 3}',
    status: 400,
    error: /^protocol: request 'inputs' must be an array/,
  },
  {
    title: "an unknown datatype",
    body: simpleBody([input("INPUT0", { datatype: "FLOAT" }), input("INPUT1")]),
    status: 400,
    error: /^protocol: input 'INPUT0': unknown datatype "FLOAT"/,
  },
  {
    title: "a wrong datatype",
    body: simpleBody([input("INPUT0", { datatype: "FP32" }), input("INPUT1")]),
    status: 400,
    error: /^backend: model 'simple' input 'INPUT0' expects INT32, got FP32$/,
  },
  {
    title: "a wrong shape",
    body: simpleBody([input("INPUT0", { shape: [2, 8] }), input("INPUT1")]),
    status: 400,
    error: /^backend: model 'simple' input 'INPUT0' has shape \[2,8\], expected \[-1,16\]$/,
  },
  {
    title: "a negative dim",
    body: simpleBody([input("INPUT0", { shape: [1, -16] }), input("INPUT1")]),
    status: 400,
    error: /^protocol: input 'INPUT0': 'shape' must be an array of non-negative integers/,
  },
  {
    title: "a batch over max_batch_size",
    body: simpleBody([
      input("INPUT0", { shape: [9, 16], data: new Array(144).fill(0) }),
      input("INPUT1", { shape: [9, 16], data: new Array(144).fill(0) }),
    ]),
    status: 400,
    error: /batch size 9 is outside \[1, 8\] \(max_batch_size\)/,
  },
  {
    title: "an unknown model",
    path: "/v2/models/nope/infer",
    body: simpleBody([]),
    status: 404,
    error: /^repository: Request for unknown model: 'nope' is not found$/,
  },
  {
    title: "an unknown version",
    path: "/v2/models/simple/versions/4/infer",
    body: simpleBody([]),
    status: 404,
    error: /'simple' version 4 is not found/,
  },
  {
    title: "a non-numeric version",
    path: "/v2/models/simple/versions/latest/infer",
    body: simpleBody([]),
    status: 400,
    error: /model version must be a number, got 'latest'/,
  },
  {
    title: "an unknown input",
    body: simpleBody([input("INPUT0"), input("INPUT1"), input("INPUT9")]),
    status: 400,
    error: /model 'simple' has no input 'INPUT9' \(inputs: INPUT0, INPUT1\)/,
  },
  {
    title: "an unknown output",
    body: simpleBody([input("INPUT0"), input("INPUT1")], { outputs: [{ name: "OUTPUT7" }] }),
    status: 400,
    error: /model 'simple' has no output 'OUTPUT7'/,
  },
  {
    title: "a missing input",
    body: simpleBody([input("INPUT0")]),
    status: 400,
    error: /model 'simple' needs input 'INPUT1', which the request lacks/,
  },
  {
    title: "too few JSON values",
    body: simpleBody([input("INPUT0", { data: [1, 2, 3] }), input("INPUT1")]),
    status: 400,
    error: /input 'INPUT0': 3 values given, shape needs 16/,
  },
  {
    title: "a value of the wrong JSON type",
    body: simpleBody([input("INPUT0", { data: [...ZEROS.slice(1), "7"] }), input("INPUT1")]),
    status: 400,
    error: /input 'INPUT0': element 15 is "7", expected a INT32 number/,
  },
  {
    title: "an out-of-range integer",
    body: simpleBody([input("INPUT0", { data: [...ZEROS.slice(1), 2 ** 31] }), input("INPUT1")]),
    status: 400,
    error: /element 15 is 2147483648, expected a INT32/,
  },
  {
    title: "an input with neither data nor binary size",
    body: simpleBody([{ name: "INPUT0", shape: [1, 16], datatype: "INT32" }, input("INPUT1")]),
    status: 400,
    error: /input 'INPUT0': has neither 'data' nor 'binary_data_size'/,
  },
  {
    title: "binary data that does not match the shape",
    ...binaryBody([1, 3], 8, "12345678"),
    path: "/v2/models/identity_fp32/infer",
    status: 400,
    error: /input 'INPUT0': 8 bytes of FP32 data do not match shape \[1,3\], which needs 12/,
  },
  {
    title: "binary_data_size past the end of the body",
    ...binaryBody([1, 4], 16, "1234"),
    path: "/v2/models/identity_fp32/infer",
    status: 400,
    error: /binary_data_size 16 runs past the end of the body \(4 binary bytes left\)/,
  },
  {
    title: "binary bytes left over after the inputs",
    ...binaryBody([1, 1], 4, "12345678"),
    path: "/v2/models/identity_fp32/infer",
    status: 400,
    error: /body has 8 bytes of binary data but the inputs' binary_data_size add up to 4/,
  },
  {
    title: "a negative Inference-Header-Content-Length",
    body: simpleBody([]),
    headers: { "inference-header-content-length": "-5" },
    status: 400,
    error: /Inference-Header-Content-Length must be a non-negative integer, got '-5'/,
  },
  {
    title: "an Inference-Header-Content-Length larger than the body",
    body: simpleBody([]),
    headers: { "inference-header-content-length": "100000" },
    status: 400,
    error: /Inference-Header-Content-Length 100000 is larger than the body \(13 bytes\)/,
  },
  {
    title: "an oversize body",
    body: simpleBody([input("INPUT0", { data: new Array(LIMIT).fill(1) })]),
    status: 413,
    error: /request body of \d+ bytes exceeds the limit of 4096 bytes \(--http-max-input-size\)/,
  },
  {
    title: "an oversize body after decompression",
    body: Bun.gzipSync(" ".repeat(LIMIT * 4)),
    headers: { "content-encoding": "gzip" },
    status: 413,
    error: /decompressed request body .* exceeds the limit of 4096 bytes/,
  },
  {
    title: "an unsupported Content-Encoding",
    body: "{}",
    headers: { "content-encoding": "br" },
    status: 501,
    error: /Content-Encoding 'br' is not supported/,
  },
  {
    title: "a reserved triton_ parameter",
    body: simpleBody([input("INPUT0"), input("INPUT1")], { parameters: { triton_magic: 1 } }),
    status: 400,
    error: /parameter 'triton_magic' is reserved/,
  },
  {
    title: "a non-boolean binary_data_output",
    body: simpleBody([input("INPUT0"), input("INPUT1")], { parameters: { binary_data_output: "yes" } }),
    status: 400,
    error: /'binary_data_output' must be a boolean/,
  },
  {
    title: "BYTES with a NUL for onnxruntime",
    path: "/v2/models/identity_bytes/infer",
    body: JSON.stringify({
      inputs: [{ name: "INPUT0", shape: [1, 1], datatype: "BYTES", data: ["a\u0000b"] }],
    }),
    status: 400,
    error: /element 0 contains a NUL byte/,
  },
  {
    title: "an onnxruntime run failure",
    path: "/v2/models/reshaper/infer",
    body: JSON.stringify({
      inputs: [
        { name: "DATA", shape: [6], datatype: "FP32", data: [1, 2, 3, 4, 5, 6] },
        { name: "SHAPE", shape: [2], datatype: "INT64", data: [4, 4] },
      ],
    }),
    status: 500,
    error: /^backend: onnxruntime failed in reshaper_0: .*reshape/i,
  },
];

describe("bad input over HTTP", () => {
  for (const testCase of CASES) {
    it(`answers ${testCase.title} with ${testCase.status} and a message naming the layer`, async () => {
      const response = await fetch(`${server.url}${testCase.path ?? "/v2/models/simple/infer"}`, {
        method: "POST",
        body: testCase.body,
        headers: testCase.headers ?? {},
      });
      expect(response.status).toBe(testCase.status);
      expect(response.headers.get("content-type")).toContain("application/json");
      const body = await readJson(response);
      expect(Object.keys(body)).toEqual(["error"]);
      expect(body.error).toMatch(testCase.error);
    });
  }

  it("stays live and loses no good request sent alongside the bad ones", async () => {
    const good = JSON.stringify({
      inputs: [input("INPUT0", { data: ZEROS.map((_, i) => i) }), input("INPUT1")],
    });
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const bad = CASES[i % CASES.length] as Case;
        const request = i % 2 === 0 ? { path: "/v2/models/simple/infer", body: good, headers: {} } : bad;
        return fetch(`${server.url}${request.path ?? "/v2/models/simple/infer"}`, {
          method: "POST",
          body: request.body,
          headers: request.headers ?? {},
        }).then(async (response) => ({
          good: i % 2 === 0,
          status: response.status,
          body: await readJson(response),
        }));
      }),
    );
    for (const answer of answers.filter((a) => a.good)) {
      expect(answer.body).toHaveProperty("outputs");
      expect(answer.status).toBe(200);
      expect(answer.body.outputs[0].data).toEqual(ZEROS.map((_, i) => i));
    }
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  });
});
