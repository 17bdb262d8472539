import { describe, expect, it } from "bun:test";
import { decodeTensorBytes, encodeTensorBytes } from "../../src/core/wire-bytes.ts";

describe("decodeTensorBytes", () => {
  it("returns a view of aligned bytes without copying", () => {
    const buffer = new Int32Array([1, -2, 3]).buffer;
    const data = decodeTensorBytes("INT32", [3], new Uint8Array(buffer), "input 'x'") as Int32Array;
    expect(Array.from(data)).toEqual([1, -2, 3]);
    expect(data.buffer).toBe(buffer);
  });

  it("copies unaligned bytes into an aligned array", () => {
    const bytes = new Uint8Array(13);
    new DataView(bytes.buffer).setFloat32(1, 1.5, true);
    new DataView(bytes.buffer).setFloat32(5, -2, true);
    new DataView(bytes.buffer).setFloat32(9, 8, true);
    const data = decodeTensorBytes("FP32", [3], bytes.subarray(1), "input 'x'") as Float32Array;
    expect(Array.from(data)).toEqual([1.5, -2, 8]);
  });

  it("reads 64-bit integers as bigints", () => {
    const bytes = new Uint8Array(new BigInt64Array([-(2n ** 62n), 7n]).buffer);
    expect(Array.from(decodeTensorBytes("INT64", [2], bytes, "x") as BigInt64Array)).toEqual([
      -(2n ** 62n),
      7n,
    ]);
  });

  it("rejects a byte count that does not match the shape", () => {
    expect(() => decodeTensorBytes("FP32", [2, 2], new Uint8Array(12), "input 'x'")).toThrow(
      "protocol: input 'x': 12 bytes of FP32 data do not match shape [2,2], which needs 16",
    );
  });

  it("splits length-prefixed BYTES elements", () => {
    const bytes = new Uint8Array([2, 0, 0, 0, 104, 105, 0, 0, 0, 0]);
    const data = decodeTensorBytes("BYTES", [2], bytes, "x") as Uint8Array[];
    expect(data.map((element) => new TextDecoder().decode(element))).toEqual(["hi", ""]);
  });

  it("rejects BYTES data whose lengths run past the end", () => {
    expect(() => decodeTensorBytes("BYTES", [1], new Uint8Array([9, 0, 0, 0, 1]), "input 'x'")).toThrow(
      "claims 9 bytes but only 1 remain",
    );
  });

  it("rejects a BYTES element count that does not match the shape", () => {
    expect(() => decodeTensorBytes("BYTES", [3], new Uint8Array([0, 0, 0, 0]), "input 'x'")).toThrow(
      "got 1 BYTES elements, shape needs 3",
    );
  });
});

describe("encodeTensorBytes", () => {
  it("round-trips BYTES elements", () => {
    const data = [new TextEncoder().encode("abc"), new Uint8Array([0, 255])];
    const bytes = encodeTensorBytes({ name: "x", datatype: "BYTES", shape: [2], data });
    expect(decodeTensorBytes("BYTES", [2], bytes, "x")).toEqual(data);
  });

  it("views numeric data in place", () => {
    const data = new Uint16Array([1, 2, 3]).subarray(1);
    const bytes = encodeTensorBytes({ name: "x", datatype: "UINT16", shape: [2], data });
    expect(Array.from(bytes)).toEqual([2, 0, 3, 0]);
  });
});
