import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { gunzipSync, gzipSync } from "node:zlib";
import type { DataType } from "../../../src/core/datatype.ts";
import { readJson } from "../../support/json.ts";
import {
  addIdentities,
  addSimple,
  configTypeName,
  ORT_DATA_TYPES,
  TestRepository,
} from "../../support/model-repo.ts";
import { identityModel } from "../../support/onnx-builder.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";
import {
  decodeBinaryResponse,
  decodeBytesElements,
  encodeBinaryRequest,
  encodeBytesElements,
} from "../../support/v2-binary.ts";

const repo = addIdentities(addSimple(new TestRepository()))
  .addModel("scores", {
    config: `max_batch_size: 2
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [4] }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [4] label_filename: "labels.txt" }]
instance_group [{ kind: KIND_CPU count: 1 }]`,
    versions: { 1: identityModel("FP32", ["b", 4]) },
    extra: { "labels.txt": "cat\ndog\nfox\nowl" },
  })
  .addModel("reshaped", {
    config: `max_batch_size: 0
input [{ name: "INPUT0" data_type: ${configTypeName("FP32")} dims: [6] reshape { shape: [2, 3] } }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [6] reshape { shape: [2, 3] } }]
instance_group [{ kind: KIND_CPU count: 1 }]`,
    versions: { 1: identityModel("FP32", [2, 3]) },
  });
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

const INPUT0 = Array.from({ length: 16 }, (_, i) => i * 3 - 7);
const INPUT1 = Array.from({ length: 16 }, (_, i) => 100 - i);

function post(model: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/v2/models/${model}/infer`, { method: "POST", body, headers });
}

/** JSON values and the matching little-endian bytes for each datatype. */
const SAMPLES: Record<Exclude<DataType, "BF16">, { json: unknown[]; bytes: () => Uint8Array }> = {
  BOOL: { json: [true, false, true], bytes: () => new Uint8Array([1, 0, 1]) },
  UINT8: { json: [0, 128, 255], bytes: () => new Uint8Array([0, 128, 255]) },
  UINT16: { json: [0, 1000, 65535], bytes: () => new Uint8Array(new Uint16Array([0, 1000, 65535]).buffer) },
  UINT32: {
    json: [0, 70000, 4294967295],
    bytes: () => new Uint8Array(new Uint32Array([0, 70000, 4294967295]).buffer),
  },
  UINT64: {
    json: [0, 1, 9007199254740991],
    bytes: () => new Uint8Array(new BigUint64Array([0n, 1n, 9007199254740991n]).buffer),
  },
  INT8: { json: [-128, 0, 127], bytes: () => new Uint8Array(new Int8Array([-128, 0, 127]).buffer) },
  INT16: { json: [-32768, 5, 32767], bytes: () => new Uint8Array(new Int16Array([-32768, 5, 32767]).buffer) },
  INT32: {
    json: [-2147483648, 0, 2147483647],
    bytes: () => new Uint8Array(new Int32Array([-2147483648, 0, 2147483647]).buffer),
  },
  INT64: {
    json: [-9007199254740991, 0, 42],
    bytes: () => new Uint8Array(new BigInt64Array([-9007199254740991n, 0n, 42n]).buffer),
  },
  FP16: { json: [1, -2, 0.5], bytes: () => new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3800]).buffer) },
  FP32: {
    json: [1.5, -0.25, 1024],
    bytes: () => new Uint8Array(new Float32Array([1.5, -0.25, 1024]).buffer),
  },
  FP64: {
    json: [1e-300, -2.5, Math.PI],
    bytes: () => new Uint8Array(new Float64Array([1e-300, -2.5, Math.PI]).buffer),
  },
  BYTES: { json: ["", "héllo", "a b"], bytes: () => encodeBytesElements(["", "héllo", "a b"]) },
};

describe("infer with JSON tensors", () => {
  it("adds and subtracts with simple, echoing the id", async () => {
    const response = await post(
      "simple",
      JSON.stringify({
        id: "req-1",
        inputs: [
          { name: "INPUT0", shape: [1, 16], datatype: "INT32", data: INPUT0 },
          { name: "INPUT1", shape: [1, 16], datatype: "INT32", data: [INPUT1] },
        ],
      }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("server-timing")).toMatch(
      /^queue;dur=[\d.]+, compute_input;dur=[\d.]+, compute_infer;dur=[\d.]+, compute_output;dur=[\d.]+$/,
    );
    const body = await readJson(response);
    expect(Object.keys(body)).toEqual(["id", "model_name", "model_version", "outputs"]);
    expect(body.id).toBe("req-1");
    expect(body.model_name).toBe("simple");
    expect(body.model_version).toBe("1");
    expect(body.outputs).toEqual([
      {
        name: "OUTPUT0",
        datatype: "INT32",
        shape: [1, 16],
        data: INPUT0.map((v, i) => v + (INPUT1[i] as number)),
      },
      {
        name: "OUTPUT1",
        datatype: "INT32",
        shape: [1, 16],
        data: INPUT0.map((v, i) => v - (INPUT1[i] as number)),
      },
    ]);
  });

  it("returns only the requested outputs, in the requested order", async () => {
    const body = await readJson(
      await post(
        "simple",
        JSON.stringify({
          inputs: [
            { name: "INPUT0", shape: [2, 16], datatype: "INT32", data: [...INPUT0, ...INPUT0] },
            { name: "INPUT1", shape: [2, 16], datatype: "INT32", data: [...INPUT1, ...INPUT1] },
          ],
          outputs: [{ name: "OUTPUT1" }],
        }),
      ),
    );
    expect(
      body.outputs.map((output: { name: string; shape: number[] }) => [output.name, output.shape]),
    ).toEqual([["OUTPUT1", [2, 16]]]);
  });

  for (const datatype of ORT_DATA_TYPES) {
    it(`round-trips ${datatype} through identity_${datatype.toLowerCase()}`, async () => {
      const sample = SAMPLES[datatype as keyof typeof SAMPLES];
      const response = await post(
        `identity_${datatype.toLowerCase()}`,
        JSON.stringify({ inputs: [{ name: "INPUT0", shape: [1, 3], datatype, data: sample.json }] }),
      );
      expect(response.status).toBe(200);
      const body = await readJson(response);
      expect(body.outputs[0]).toEqual({ name: "OUTPUT0", datatype, shape: [1, 3], data: sample.json });
    });
  }

  it("classifies an output with its labels", async () => {
    const body = await readJson(
      await post(
        "scores",
        JSON.stringify({
          inputs: [
            { name: "INPUT0", shape: [2, 4], datatype: "FP32", data: [0.1, 0.9, 0.3, 0.2, 4, 3, 2, 1] },
          ],
          outputs: [{ name: "OUTPUT0", parameters: { classification: 2 } }],
        }),
      ),
    );
    expect(body.outputs[0].datatype).toBe("BYTES");
    expect(body.outputs[0].shape).toEqual([2, 2]);
    expect(body.outputs[0].data).toEqual([
      "0.900000:1:dog",
      "0.300000:2:fox",
      "4.000000:0:cat",
      "3.000000:1:dog",
    ]);
  });

  it("applies config reshape on the way in and out", async () => {
    const body = await readJson(
      await post(
        "reshaped",
        JSON.stringify({
          inputs: [{ name: "INPUT0", shape: [6], datatype: "FP32", data: [1, 2, 3, 4, 5, 6] }],
        }),
      ),
    );
    expect(body.outputs[0]).toEqual({
      name: "OUTPUT0",
      datatype: "FP32",
      shape: [6],
      data: [1, 2, 3, 4, 5, 6],
    });
  });
});

describe("infer with the binary tensor data extension", () => {
  for (const datatype of ORT_DATA_TYPES) {
    it(`round-trips ${datatype} as binary in and binary out`, async () => {
      const sample = SAMPLES[datatype as keyof typeof SAMPLES];
      const { body, headerLength } = encodeBinaryRequest(
        [{ name: "INPUT0", datatype, shape: [1, 3], bytes: sample.bytes() }],
        {
          parameters: { binary_data_output: true },
        },
      );
      const response = await post(`identity_${datatype.toLowerCase()}`, body, {
        "inference-header-content-length": String(headerLength),
        "content-type": "application/octet-stream",
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/octet-stream");
      const { header, outputs } = await decodeBinaryResponse(response);
      expect((header.outputs as { parameters: unknown }[])[0]?.parameters).toEqual({
        binary_data_size: sample.bytes().byteLength,
      });
      expect(outputs[0]?.bytes).toEqual(sample.bytes());
      if (datatype === "BYTES")
        expect(decodeBytesElements(outputs[0]?.bytes as Uint8Array)).toEqual(sample.json as string[]);
    });
  }

  it("mixes binary and JSON inputs and picks binary per output", async () => {
    const bytes = new Uint8Array(new Int32Array(INPUT0).buffer);
    const header = {
      inputs: [
        {
          name: "INPUT0",
          shape: [1, 16],
          datatype: "INT32",
          parameters: { binary_data_size: bytes.byteLength },
        },
        { name: "INPUT1", shape: [1, 16], datatype: "INT32", data: INPUT1 },
      ],
      outputs: [{ name: "OUTPUT0", parameters: { binary_data: true } }, { name: "OUTPUT1" }],
    };
    const json = new TextEncoder().encode(JSON.stringify(header));
    const response = await post("simple", Buffer.concat([json, bytes]), {
      "inference-header-content-length": String(json.byteLength),
    });
    const { outputs } = await decodeBinaryResponse(response);
    expect(Array.from(new Int32Array((outputs[0] as { bytes: Uint8Array }).bytes.buffer))).toEqual(
      INPUT0.map((v, i) => v + (INPUT1[i] as number)),
    );
    expect(outputs[1]?.data).toEqual(INPUT0.map((v, i) => v - (INPUT1[i] as number)));
  });

  it("takes a raw binary body for a single-input model (header length 0)", async () => {
    const bytes = new Uint8Array(new Float32Array([1, 2, 3, 4, 5]).buffer);
    const response = await post("identity_fp32", bytes, { "inference-header-content-length": "0" });
    expect(response.status).toBe(200);
    const { outputs } = await decodeBinaryResponse(response);
    expect(outputs[0]?.shape).toEqual([1, 5]);
    expect(outputs[0]?.bytes).toEqual(bytes);
  });

  it("accepts a gzip request body and compresses the response when asked", async () => {
    const json = JSON.stringify({
      inputs: [{ name: "INPUT0", shape: [1, 8192], datatype: "FP32", data: new Array(8192).fill(0.5) }],
    });
    const response = await fetch(`${server.url}/v2/models/identity_fp32/infer`, {
      method: "POST",
      body: gzipSync(json),
      headers: { "content-encoding": "gzip", "accept-encoding": "gzip" },
      decompress: false,
    } as RequestInit);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-encoding")).toBe("gzip");
    const body = JSON.parse(gunzipSync(new Uint8Array(await response.arrayBuffer())).toString());
    expect(body.outputs[0].data).toHaveLength(8192);
  });
});
