import { describe, expect, it } from "bun:test";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { InferResponse } from "../../../src/core/request.ts";
import { ModelInferRequestSchema, ModelInferResponseSchema } from "../../../src/gen/grpc_service_pb.ts";
import { encodeInferResponse } from "../../../src/protocol/grpc/infer-codec.ts";
import { readInferRequest, writeInferResponse } from "../../../src/protocol/grpc/infer-wire.ts";

const requests: MessageInitShape<typeof ModelInferRequestSchema>[] = [
  {},
  {
    modelName: "simple",
    inputs: [
      { name: "INPUT0", datatype: "INT32", shape: [1n, 16n] },
      { name: "INPUT1", datatype: "INT32", shape: [1n, 16n] },
    ],
    rawInputContents: [new Uint8Array(64).fill(1), new Uint8Array(64).fill(2)],
  },
  {
    modelName: "modèle ✓",
    modelVersion: "3",
    id: "request-1",
    parameters: {
      sequence_id: { parameterChoice: { case: "int64Param", value: 42n } },
      sequence_start: { parameterChoice: { case: "boolParam", value: true } },
      name: { parameterChoice: { case: "stringParam", value: "x" } },
      big: { parameterChoice: { case: "uint64Param", value: 2n ** 63n } },
      empty: {},
    },
    inputs: [
      {
        name: "A",
        datatype: "FP32",
        shape: [2n, -1n, 0n],
        parameters: { binary_data_size: { parameterChoice: { case: "int64Param", value: 8n } } },
        contents: { fp32Contents: [0.5, -1] },
      },
      {
        name: "B",
        datatype: "BYTES",
        shape: [2n],
        contents: { bytesContents: [new Uint8Array([1, 2]), new Uint8Array()] },
      },
      { name: "C", datatype: "INT64", shape: [] },
    ],
    outputs: [
      { name: "OUT", parameters: { classification: { parameterChoice: { case: "int64Param", value: 2n } } } },
      { name: "" },
    ],
    rawInputContents: [new Uint8Array()],
  },
];

describe("readInferRequest", () => {
  it("decodes what fromBinary decodes", () => {
    for (const init of requests) {
      const bytes = toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, init));
      expect(readInferRequest(bytes)).toEqual(fromBinary(ModelInferRequestSchema, bytes));
    }
  });

  it("keeps raw_input_contents as views of the message bytes", () => {
    const bytes = toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, requests[1]));
    for (const raw of readInferRequest(bytes).rawInputContents) expect(raw.buffer).toBe(bytes.buffer);
  });

  it("reads unpacked shapes and repeated scalars as fromBinary does, and skips unknown fields", () => {
    const input = new BinaryWriter().tag(1, WireType.LengthDelimited).string("X");
    for (const dim of [3, 4]) input.tag(3, WireType.Varint).int64(dim);
    const bytes = new BinaryWriter()
      .tag(1, WireType.LengthDelimited)
      .string("first")
      .tag(99, WireType.Varint)
      .uint32(7)
      .tag(5, WireType.LengthDelimited)
      .bytes(input.finish())
      .tag(1, WireType.LengthDelimited)
      .string("last")
      .finish();
    const { $unknown, ...expected } = fromBinary(ModelInferRequestSchema, bytes);
    expect($unknown).toHaveLength(1);
    expect(readInferRequest(bytes)).toEqual(expected);
    expect(expected.modelName).toBe("last");
    expect(expected.inputs[0]?.shape).toEqual([3n, 4n]);
  });

  it("throws where fromBinary throws", () => {
    const bad = [
      new Uint8Array([10, 2, 0xc3, 0x28]), // model_name is not UTF-8
      new Uint8Array([10, 5, 65]), // premature end
      new Uint8Array([0]), // field number 0
    ];
    for (const bytes of bad) {
      expect(() => fromBinary(ModelInferRequestSchema, bytes)).toThrow();
      expect(() => readInferRequest(bytes)).toThrow();
    }
  });
});

describe("writeInferResponse", () => {
  const responses: InferResponse[] = [
    { model: "simple", version: "1", outputs: [] },
    {
      model: "identity",
      version: "",
      id: "é-7",
      outputs: [
        { name: "OUTPUT0", datatype: "FP32", shape: [1, 3], data: new Float32Array([0.5, -1, 3]) },
        {
          name: "OUTPUT1",
          datatype: "BYTES",
          shape: [2],
          data: [new Uint8Array([104, 105]), new Uint8Array()],
        },
        { name: "EMPTY", datatype: "INT64", shape: [0], data: new BigInt64Array() },
        { name: "SCALAR", datatype: "INT8", shape: [], data: new Int8Array([-5]) },
      ],
    },
  ];

  it("writes the bytes of toBinary(encodeInferResponse(...))", () => {
    for (const response of responses) {
      expect(writeInferResponse(response)).toEqual(
        toBinary(ModelInferResponseSchema, encodeInferResponse(response)),
      );
    }
  });

  it("leaves the reserved room in front of the message", () => {
    const response = responses[1] as InferResponse;
    const framed = writeInferResponse(response, 5);
    expect(Array.from(framed.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
    expect(framed.subarray(5)).toEqual(writeInferResponse(response));
  });
});
