import { describe, expect, it } from "bun:test";
import { connect } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import {
  GRPCInferenceService,
  ModelInferRequestSchema,
  ModelInferResponseSchema,
} from "../../src/gen/grpc_service_pb.ts";
import { EXTENSIONS } from "../../src/protocol/extensions.ts";
import { grpcFrame } from "./grpc-frame.ts";
import { runGrpcJs } from "./grpc-js.ts";
import { readJson } from "./json.ts";
import { metricValue } from "./test-server.ts";
import { until } from "./until.ts";
import { decodeBinaryResponse, encodeBinaryRequest } from "./v2-binary.ts";

/** Where a server under test listens; it serves `simple` (INT32 [16] add/sub), and `double` and `crash` (TypeScript models). */
export interface ServingTarget {
  url: string;
  grpcPort: number;
  metricsUrl: string;
}

const A = Array.from({ length: 16 }, (_, i) => i);
const ONES = new Array(16).fill(1);
const int32Bytes = (values: number[]) => new Uint8Array(new Int32Array(values).buffer);
// A copy: the bytes may be a Buffer, whose slice() is a view at any offset.
const int32s = (bytes: Uint8Array) => Array.from(new Int32Array(Uint8Array.from(bytes).buffer));

/** The `crash` model for addTsModel: echoes, except that a negative first value kills its worker with an uncaught error. */
export const CRASH_MODEL_CODE = `export default class {
  execute(requests) {
    if (requests[0].inputs.INPUT0.data[0] >= 0) return requests.map((request) => ({ OUTPUT0: request.inputs.INPUT0 }));
    setTimeout(() => { throw new Error("uncaught in the model"); }, 0);
    return new Promise(() => {});
  }
}
`;

/** The `double` model for addTsModel: OUTPUT0 = 2 × INPUT0, run in a worker. */
export const DOUBLE_MODEL_CODE = `export default class {
  async execute(requests) {
    return requests.map((request) => ({
      OUTPUT0: { datatype: "FP32", shape: request.inputs.INPUT0.shape, data: request.inputs.INPUT0.data.map((x) => 2 * x) },
    }));
  }
}
`;

function post(target: ServingTarget, path: string, body: unknown): Promise<Response> {
  return fetch(`${target.url}${path}`, { method: "POST", body: JSON.stringify(body) });
}

/**
 * The HTTP and gRPC surface a runtime must serve, asserted against a
 * running server from outside: v2 REST (JSON and binary tensors), Connect
 * and gRPC-web on the HTTP port, native gRPC on the gRPC port (grpc-js and
 * the unary fast path), and the metrics port. Run in declaration order:
 * the metrics check counts the inferences before it.
 */
export function describeServingSubset(target: () => ServingTarget): void {
  describe("v2 REST", () => {
    it("is live and ready", async () => {
      for (const path of ["/v2/health/live", "/v2/health/ready", "/v2/models/simple/ready"])
        expect((await fetch(`${target().url}${path}`)).status).toBe(200);
    });

    it("names itself and exactly its protocol extensions", async () => {
      const metadata = await readJson(await fetch(`${target().url}/v2`));
      expect(metadata.name).toBe("ferry");
      expect(metadata.extensions).toEqual(EXTENSIONS);
    });

    it("describes the simple model: metadata and config", async () => {
      const metadata = await readJson(await fetch(`${target().url}/v2/models/simple`));
      expect(metadata).toMatchObject({ name: "simple", versions: ["1"], platform: "onnxruntime_onnx" });
      expect(metadata.inputs[0]).toEqual({ name: "INPUT0", datatype: "INT32", shape: [-1, 16] });
      const config = await readJson(await fetch(`${target().url}/v2/models/simple/config`));
      expect(config).toMatchObject({ name: "simple", max_batch_size: 8, backend: "onnxruntime" });
    });

    it("infers with JSON tensors", async () => {
      const response = await post(target(), "/v2/models/simple/infer", {
        id: "json-1",
        inputs: [
          { name: "INPUT0", datatype: "INT32", shape: [1, 16], data: A },
          { name: "INPUT1", datatype: "INT32", shape: [1, 16], data: ONES },
        ],
      });
      expect(response.status).toBe(200);
      const body = await readJson(response);
      expect(body.id).toBe("json-1");
      expect(body.outputs[0]).toEqual({
        name: "OUTPUT0",
        datatype: "INT32",
        shape: [1, 16],
        data: A.map((value) => value + 1),
      });
    });

    it("infers with binary tensor data", async () => {
      const { body, headerLength } = encodeBinaryRequest(
        [
          { name: "INPUT0", datatype: "INT32", shape: [1, 16], bytes: int32Bytes(A) },
          { name: "INPUT1", datatype: "INT32", shape: [1, 16], bytes: int32Bytes(ONES) },
        ],
        { outputs: [{ name: "OUTPUT1", parameters: { binary_data: true } }] },
      );
      const response = await fetch(`${target().url}/v2/models/simple/infer`, {
        method: "POST",
        headers: { "inference-header-content-length": String(headerLength) },
        body,
      });
      expect(response.status).toBe(200);
      const { outputs } = await decodeBinaryResponse(response);
      expect(outputs.map((output) => output.name)).toEqual(["OUTPUT1"]);
      expect(int32s(outputs[0]?.bytes as Uint8Array)).toEqual(A.map((value) => value - 1));
    });

    it("runs a TypeScript model in its worker", async () => {
      const response = await post(target(), "/v2/models/double/infer", {
        inputs: [{ name: "INPUT0", datatype: "FP32", shape: [3], data: [1, 2.5, -4] }],
      });
      expect((await readJson(response)).outputs[0].data).toEqual([2, 5, -8]);
    });

    it("answers for a model whose worker dies, and stays up", async () => {
      const response = await post(target(), "/v2/models/crash/infer", {
        inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1], data: [-1] }],
      });
      expect(response.status).toBe(503);
      expect((await readJson(response)).error).toStartWith("backend: model 'crash' instance crash_0 crashed");
      expect((await fetch(`${target().url}/v2/health/live`)).status).toBe(200);
      const echoed = () =>
        post(target(), "/v2/models/crash/infer", {
          inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1], data: [1] }],
        }).then((answer) => answer.status === 200);
      await until("the crashed instance has restarted", echoed, 10_000);
    });

    it("answers a bad input with 400 and a JSON error naming it", async () => {
      const response = await post(target(), "/v2/models/simple/infer", {
        inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 16], data: A }],
      });
      expect(response.status).toBe(400);
      expect((await readJson(response)).error).toContain("INPUT0");
    });
  });

  const inferRequest = {
    modelName: "simple",
    id: "web-1",
    inputs: [
      { name: "INPUT0", datatype: "INT32", shape: [1n, 16n] },
      { name: "INPUT1", datatype: "INT32", shape: [1n, 16n] },
    ],
    rawInputContents: [int32Bytes(A), int32Bytes(ONES)],
  };

  for (const [protocol, transport] of [
    ["Connect", createConnectTransport],
    ["gRPC-web", createGrpcWebTransport],
  ] as const) {
    it(`infers over ${protocol} on the HTTP port`, async () => {
      const client = createClient(GRPCInferenceService, transport({ baseUrl: target().url }));
      const response = await client.modelInfer(inferRequest);
      expect(response.id).toBe("web-1");
      expect(int32s(response.rawOutputContents[0] as Uint8Array)).toEqual(A.map((value) => value + 1));
    });
  }

  describe("native gRPC on the gRPC port", () => {
    it("answers health, metadata and config to @grpc/grpc-js", async () => {
      const result = await runGrpcJs(target().grpcPort, "unary");
      expect(result.live.response).toEqual({ live: true });
      expect(result.ready.response).toEqual({ ready: true });
      expect(result.metadata.response.extensions).toEqual(EXTENSIONS);
      expect(result.config.response.config).toMatchObject({ name: "simple", max_batch_size: 8 });
      expect(result.healthModel.response.status).toBe("SERVING");
    });

    it("infers through @grpc/grpc-js, with raw and with typed contents", async () => {
      const result = await runGrpcJs(target().grpcPort, "infer");
      expect(result.raw.values).toEqual([A.map((value) => value + 2), A.map((value) => value - 2)]);
      expect(result.contents.values).toEqual([A.map((value) => value - 2)]);
    });

    it("infers on a bare HTTP/2 stream, with the status in the trailers", async () => {
      const session = connect(`http://127.0.0.1:${target().grpcPort}`);
      try {
        const message = toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, inferRequest));
        const { body, trailers } = await new Promise<{ body: Buffer; trailers: Record<string, unknown> }>(
          (resolve, reject) => {
            const stream = session.request({
              ":method": "POST",
              ":path": "/inference.GRPCInferenceService/ModelInfer",
              "content-type": "application/grpc",
              te: "trailers",
            });
            const chunks: Buffer[] = [];
            let trailers: Record<string, unknown> = {};
            stream.on("trailers", (received) => {
              trailers = received;
            });
            stream.on("data", (chunk: Buffer) => chunks.push(chunk));
            stream.on("error", reject);
            stream.on("close", () => resolve({ body: Buffer.concat(chunks), trailers }));
            stream.end(grpcFrame(message));
          },
        );
        expect(trailers["grpc-status"]).toBe("0");
        const response = fromBinary(ModelInferResponseSchema, body.subarray(5));
        expect(int32s(response.rawOutputContents[1] as Uint8Array)).toEqual(A.map((value) => value - 1));
      } finally {
        session.close();
      }
    });
  });

  it("counts the successful inferences on the metrics port", async () => {
    const text = await (await fetch(target().metricsUrl)).text();
    // JSON, binary, Connect, gRPC-web, grpc-js twice and the bare stream: at least 7.
    expect(
      metricValue(text, 'nv_inference_request_success{model="simple",version="1"}'),
    ).toBeGreaterThanOrEqual(7);
  });
}
