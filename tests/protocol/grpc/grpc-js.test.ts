import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { runGrpcJs } from "../../support/grpc-js.ts";
import {
  addAccumulator,
  addIdentities,
  addSimple,
  ORT_DATA_TYPES,
  TestRepository,
} from "../../support/model-repo.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

const repo = addAccumulator(addIdentities(addSimple(new TestRepository())));
let server: TestServer;
let port: number;

beforeAll(async () => {
  server = await startTestServer(repo.root);
  port = server.grpcPort as number;
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

const GRPC = {
  OK: 0,
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
};
const hex = (bytes: ArrayBufferView) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
const zeros = (count: number) => "00".repeat(count);

describe("GRPCInferenceService with @grpc/grpc-js (Node.js)", () => {
  it("answers the health, metadata, config and statistics RPCs", async () => {
    const result = await runGrpcJs(port, "unary");
    expect(result.live).toEqual({ code: GRPC.OK, response: { live: true } });
    expect(result.ready).toEqual({ code: GRPC.OK, response: { ready: true } });
    expect(result.metadata.response.name).toBe("ferry");
    expect(result.metadata.response.extensions).toContain("binary_tensor_data");
    expect(result.modelReady.response.ready).toBe(true);
    expect(result.modelMetadata.response).toMatchObject({
      name: "simple",
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [
        { name: "INPUT0", datatype: "INT32", shape: ["-1", "16"] },
        { name: "INPUT1", datatype: "INT32", shape: ["-1", "16"] },
      ],
    });
    expect(result.config.response.config).toMatchObject({
      name: "simple",
      max_batch_size: 8,
      backend: "onnxruntime",
    });
    expect(result.config.response.config.input[0]).toMatchObject({
      name: "INPUT0",
      data_type: "TYPE_INT32",
      dims: ["16"],
    });
    expect(result.statistics.response.model_stats[0]).toMatchObject({ name: "simple", version: "1" });
    expect(result.healthServer.response.status).toBe("SERVING");
    expect(result.healthModel.response.status).toBe("SERVING");
    expect(result.healthUnknown.code).toBe(GRPC.NOT_FOUND);
  });

  it("answers UNIMPLEMENTED, with a message, for what ferry does not do", async () => {
    const result = await runGrpcJs(port, "unary");
    expect(result.repositoryIndex.response.models.map((model: { name: string }) => model.name)).toContain(
      "simple",
    );
    expect(result.sharedMemory).toEqual({
      code: GRPC.UNIMPLEMENTED,
      details: "protocol: system shared memory is not supported by this server",
    });
    expect(result.cudaSharedMemory.code).toBe(GRPC.UNIMPLEMENTED);
  });

  it("infers with raw_input_contents and with typed contents, answering raw_output_contents", async () => {
    const result = await runGrpcJs(port, "infer");
    const a = Array.from({ length: 16 }, (_, i) => i);
    expect(result.raw.id).toBe("raw-1");
    expect(result.raw.values).toEqual([a.map((v) => v + 2), a.map((v) => v - 2)]);
    expect(result.contents.outputs).toEqual([{ name: "OUTPUT1", shape: ["1", "16"] }]);
    expect(result.contents.values).toEqual([a.map((v) => v - 2)]);
  });

  it("carries raw_input_contents of every datatype unchanged", async () => {
    const samples: Record<string, ArrayBufferView> = {
      BOOL: new Uint8Array([1, 0, 1]),
      UINT8: new Uint8Array([0, 7, 255]),
      UINT16: new Uint16Array([0, 7, 65535]),
      UINT32: new Uint32Array([0, 7, 4294967295]),
      UINT64: new BigUint64Array([0n, 7n, 2n ** 64n - 1n]),
      INT8: new Int8Array([-128, 0, 127]),
      INT16: new Int16Array([-32768, 0, 32767]),
      INT32: new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1]),
      INT64: new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]),
      FP16: new Uint16Array([0x3c00, 0xc000, 0x7bff]),
      FP32: new Float32Array([1.5, -0, 3e38]),
      FP64: new Float64Array([Math.PI, -1e-300, 2]),
    };
    const bytes = new Uint8Array([1, 0, 0, 0, 97, 3, 0, 0, 0, 98, 99, 100, 0, 0, 0, 0]);
    const cases = ORT_DATA_TYPES.map((datatype) => ({
      datatype,
      model: `identity_${datatype.toLowerCase()}`,
      count: 3,
      hex: datatype === "BYTES" ? hex(bytes) : hex(samples[datatype] as ArrayBufferView),
    }));
    const result = await runGrpcJs(port, "datatypes", cases);
    for (const { datatype, hex: sent } of cases) {
      expect(result[datatype]).toEqual({ datatype, shape: ["1", "3"], hex: sent });
    }
  });

  it("streams 100 requests over ModelStreamInfer, reporting an error in-band without closing the stream", async () => {
    const { status, responses } = await runGrpcJs(port, "stream");
    expect(status.code).toBe(GRPC.OK);
    expect(responses).toHaveLength(101);
    const byId = new Map(responses.map((response: { id: string }) => [response.id, response]));
    for (let i = 0; i < 100; i++)
      expect(byId.get(`s${i}`)).toEqual({ error: "", id: `s${i}`, final: true, first: i + 1 });
    expect(byId.get("bad")).toEqual({
      error: "repository: Request for unknown model: 'nope' is not found",
      id: "bad",
      final: true,
    });
  });

  it("ends the stream with the status on the first error when triton_grpc_error is set", async () => {
    const result = await runGrpcJs(port, "strictStream");
    expect(result).toEqual({
      status: { code: GRPC.NOT_FOUND, details: "repository: Request for unknown model: 'nope' is not found" },
      responses: [],
    });
  });

  it("keeps a sequence's order and state across a stream, with sequence parameters as int64/bool params", async () => {
    const result = await runGrpcJs(port, "sequence");
    expect(result).toEqual({ status: { code: GRPC.OK }, totals: [5, 8, 10] });
  });

  it("answers bad requests with the right status and a message naming the layer, and stays up", async () => {
    const input = (name: string, datatype = "INT32", shape = [1, 16]) => ({ name, datatype, shape });
    const simple = (extra: Record<string, unknown>) => ({ model_name: "simple", ...extra });
    const two = [zeros(64), zeros(64)];
    const cases: { title: string; request: unknown; code: number; details: RegExp }[] = [
      {
        title: "unknown model",
        request: { model_name: "nope" },
        code: GRPC.NOT_FOUND,
        details: /^repository: Request for unknown model: 'nope' is not found$/,
      },
      {
        title: "unknown version",
        request: simple({ model_version: "7" }),
        code: GRPC.NOT_FOUND,
        details: /'simple' version 7 is not found/,
      },
      {
        title: "wrong datatype",
        request: simple({ inputs: [input("INPUT0", "FP32"), input("INPUT1")], raw_input_contents: two }),
        code: GRPC.INVALID_ARGUMENT,
        details: /^backend: model 'simple' input 'INPUT0' expects INT32, got FP32$/,
      },
      {
        title: "wrong shape",
        request: simple({
          inputs: [input("INPUT0", "INT32", [2, 8]), input("INPUT1")],
          raw_input_contents: two,
        }),
        code: GRPC.INVALID_ARGUMENT,
        details: /has shape \[2,8\], expected \[-1,16\]/,
      },
      {
        title: "batch over max_batch_size",
        request: simple({
          inputs: [input("INPUT0", "INT32", [9, 16]), input("INPUT1", "INT32", [9, 16])],
          raw_input_contents: [zeros(576), zeros(576)],
        }),
        code: GRPC.INVALID_ARGUMENT,
        details: /batch size 9 is outside \[1, 8\]/,
      },
      {
        title: "unknown input",
        request: simple({
          inputs: [input("INPUT0"), input("INPUT1"), input("X")],
          raw_input_contents: [...two, zeros(64)],
        }),
        code: GRPC.INVALID_ARGUMENT,
        details: /has no input 'X'/,
      },
      {
        title: "unknown output",
        request: simple({
          inputs: [input("INPUT0"), input("INPUT1")],
          raw_input_contents: two,
          outputs: [{ name: "Y" }],
        }),
        code: GRPC.INVALID_ARGUMENT,
        details: /has no output 'Y'/,
      },
      {
        title: "data length not matching shape",
        request: simple({
          inputs: [input("INPUT0"), input("INPUT1")],
          raw_input_contents: [zeros(60), zeros(64)],
        }),
        code: GRPC.INVALID_ARGUMENT,
        details: /input 'INPUT0': 60 bytes of INT32 data do not match shape \[1,16\], which needs 64/,
      },
      {
        title: "missing input",
        request: simple({ inputs: [input("INPUT0")], raw_input_contents: [zeros(64)] }),
        code: GRPC.INVALID_ARGUMENT,
        details: /needs input 'INPUT1'/,
      },
      {
        title: "missing raw data",
        request: simple({ inputs: [input("INPUT0"), input("INPUT1")], raw_input_contents: [zeros(64)] }),
        code: GRPC.INVALID_ARGUMENT,
        details: /input 'INPUT1' has no data/,
      },
      {
        title: "extra raw data",
        request: simple({ inputs: [input("INPUT0")], raw_input_contents: two }),
        code: GRPC.INVALID_ARGUMENT,
        details: /raw_input_contents has 2 entries but only 1 inputs take raw data/,
      },
      {
        title: "contents mixed with raw",
        request: simple({
          inputs: [
            { ...input("INPUT0"), contents: { int_contents: new Array(16).fill(1) } },
            input("INPUT1"),
          ],
          raw_input_contents: [zeros(64)],
        }),
        code: GRPC.INVALID_ARGUMENT,
        details: /may not mix 'contents' and 'raw_input_contents'/,
      },
      {
        title: "contents of the wrong count",
        request: simple({
          inputs: [
            { ...input("INPUT0"), contents: { int_contents: [1, 2] } },
            { ...input("INPUT1"), contents: { int_contents: new Array(16).fill(1) } },
          ],
        }),
        code: GRPC.INVALID_ARGUMENT,
        details: /input 'INPUT0': 2 values in int_contents, shape needs 16/,
      },
      {
        title: "FP16 in typed contents",
        request: {
          model_name: "identity_fp16",
          inputs: [{ ...input("INPUT0", "FP16", [1, 1]), contents: { fp32_contents: [1] } }],
        },
        code: GRPC.INVALID_ARGUMENT,
        details: /FP16 has no typed contents field; send it in raw_input_contents/,
      },
      {
        title: "a reserved triton_ parameter",
        request: simple({ parameters: { triton_x: { bool_param: true } } }),
        code: GRPC.INVALID_ARGUMENT,
        details: /parameter 'triton_x' is reserved/,
      },
      {
        title: "a custom uint64 parameter",
        request: simple({ parameters: { mine: { uint64_param: "1" } } }),
        code: GRPC.INVALID_ARGUMENT,
        details: /uint64_param is only allowed for sequence_id, priority/,
      },
      {
        title: "sequence_start as an int",
        request: {
          model_name: "accumulator",
          parameters: { sequence_id: { int64_param: "1" }, sequence_start: { int64_param: "1" } },
        },
        code: GRPC.INVALID_ARGUMENT,
        details: /parameter 'sequence_start' must be a boolean/,
      },
    ];
    const result = await runGrpcJs(
      port,
      "bad",
      cases.map(({ title, request }) => ({ title, request })),
    );
    for (const { title, code, details } of cases) {
      expect({ title, code: result[title].code }).toEqual({ title, code });
      expect(result[title].details).toMatch(details);
    }
    expect((await runGrpcJs(port, "unary")).live.response.live).toBe(true);
  });
});
