import { describe, expect, it } from "bun:test";
import {
  bytesElements,
  decodeOutput,
  defaultShape,
  encodeInput,
  parseShape,
} from "../../src/console/tensors.ts";

describe("the try-it panel's tensors", () => {
  it("makes variable dims 1 for a first request and reads shapes as typed", () => {
    expect(defaultShape([-1, 16])).toEqual([1, 16]);
    expect(parseShape("[1, 16]")).toEqual([1, 16]);
    expect(() => parseShape("1, -2")).toThrow("shape '1, -2' is not dims ≥ 0");
  });

  it("encodes typed values as little-endian raw contents", () => {
    expect(Array.from(new Int32Array(encodeInput("INT32", [1, 3], "1, -2 3").slice().buffer))).toEqual([
      1, -2, 3,
    ]);
    expect(Array.from(new Float32Array(encodeInput("FP32", [2], "0.5 1.5").slice().buffer))).toEqual([
      0.5, 1.5,
    ]);
    expect(
      Array.from(new BigInt64Array(encodeInput("INT64", [1], "9007199254740993").slice().buffer)),
    ).toEqual([9007199254740993n]);
    expect(decodeOutput("FP16", [1], encodeInput("FP16", [1], "1.5"))).toEqual(["1.5"]);
    expect(decodeOutput("BOOL", [2], encodeInput("BOOL", [2], "true 0"))).toEqual(["1", "0"]);
  });

  it("takes BYTES one element per line", () => {
    const bytes = encodeInput("BYTES", [2], "hello\nferry, boat");
    expect(decodeOutput("BYTES", [2], bytes)).toEqual(["hello", "ferry, boat"]);
    expect(bytesElements([new Uint8Array([7])])).toEqual(new Uint8Array([1, 0, 0, 0, 7]));
  });

  it("says when the values do not fill the shape", () => {
    expect(() => encodeInput("INT32", [1, 16], "1, 2")).toThrow("2 value(s) given, shape [1, 16] needs 16");
    expect(() => encodeInput("FP32", [1], "x")).toThrow("'x' is not a number");
    expect(() => encodeInput("FLOAT", [1], "1")).toThrow("unknown datatype 'FLOAT'");
  });
});
