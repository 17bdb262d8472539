import { describe, expect, it } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { InferTensorContentsSchema } from "../../../src/gen/grpc_service_pb.ts";
import { contentsToData } from "../../../src/protocol/grpc/contents.ts";

describe("contentsToData", () => {
  it("reads each datatype from its typed field", () => {
    const contents = create(InferTensorContentsSchema, {
      boolContents: [true, false],
      intContents: [-5, 7],
      int64Contents: [-(2n ** 40n), 3n],
      uintContents: [9, 200],
      fp64Contents: [0.5, -2],
      bytesContents: [new Uint8Array([1]), new Uint8Array()],
    });
    expect(contentsToData("BOOL", 2, contents, "x")).toEqual(new Uint8Array([1, 0]));
    expect(contentsToData("INT16", 2, contents, "x")).toEqual(new Int16Array([-5, 7]));
    expect(contentsToData("INT64", 2, contents, "x")).toEqual(new BigInt64Array([-(2n ** 40n), 3n]));
    expect(contentsToData("UINT8", 2, contents, "x")).toEqual(new Uint8Array([9, 200]));
    expect(contentsToData("FP64", 2, contents, "x")).toEqual(new Float64Array([0.5, -2]));
    expect(contentsToData("BYTES", 2, contents, "x")).toEqual([new Uint8Array([1]), new Uint8Array()]);
  });

  it("refuses values out of range for narrow integer types", () => {
    const contents = create(InferTensorContentsSchema, { intContents: [300] });
    expect(() => contentsToData("INT8", 1, contents, "input 'x'")).toThrow(
      "input 'x': element 0 (300) is out of range for INT8",
    );
  });

  it("refuses a count that does not fill the shape", () => {
    const contents = create(InferTensorContentsSchema, { fp32Contents: [1, 2, 3] });
    expect(() => contentsToData("FP32", 4, contents, "input 'x'")).toThrow(
      "input 'x': 3 values in fp32_contents, shape needs 4",
    );
  });
});
