import { describe, expect, test } from "bun:test";
import type { DataType } from "../../../src/core/datatype.ts";
import { jsonToTensorData, tensorDataToJson } from "../../../src/protocol/http/json-data.ts";

const decode = (datatype: DataType, count: number, data: unknown) =>
  jsonToTensorData(datatype, count, data, "input 'X'");

describe("jsonToTensorData", () => {
  test("flat numbers fill the typed array of the datatype", () => {
    expect(decode("FP32", 3, [0.5, -1, 3])).toEqual(new Float32Array([0.5, -1, 3]));
    expect(decode("FP64", 2, [0.1, 1e300])).toEqual(new Float64Array([0.1, 1e300]));
    expect(decode("INT32", 2, [-2_147_483_648, 2_147_483_647])).toEqual(
      new Int32Array([-2_147_483_648, 2_147_483_647]),
    );
    expect(decode("UINT32", 1, [4_294_967_295])).toEqual(new Uint32Array([4_294_967_295]));
    expect(decode("UINT8", 2, [0, 255])).toEqual(new Uint8Array([0, 255]));
  });

  test("nested data, whether or not its top level has the element count", () => {
    expect(
      decode("INT32", 4, [
        [1, 2],
        [3, 4],
      ]),
    ).toEqual(new Int32Array([1, 2, 3, 4]));
    expect(decode("FP32", 2, [[1], [2]])).toEqual(new Float32Array([1, 2]));
  });

  test("a bad element is named exactly, wherever it is", () => {
    expect(() => decode("INT32", 3, [1, 2, "7"])).toThrow(
      "input 'X': element 2 is \"7\", expected a INT32 number",
    );
    expect(() => decode("INT8", 2, [1, 128])).toThrow("input 'X': element 1 is 128, expected a INT8");
    expect(() => decode("UINT8", 2, [-1, 1])).toThrow("input 'X': element 0 is -1, expected a UINT8");
    expect(() => decode("INT32", 2, [1, 1.5])).toThrow("input 'X': element 1 is 1.5, expected a INT32");
    expect(() => decode("FP32", 2, [1, null])).toThrow(
      "input 'X': element 1 is null, expected a FP32 number",
    );
    expect(() => decode("FP32", 2, [[1], ["a"]])).toThrow(
      "input 'X': element 1 is \"a\", expected a FP32 number",
    );
    expect(() => decode("FP32", 3, [1, 2])).toThrow("input 'X': 2 values given, shape needs 3");
    expect(() => decode("FP32", 1, 1)).toThrow("input 'X': 'data' must be an array");
  });

  test("types off the fast path keep their checks", () => {
    expect(decode("BOOL", 2, [true, false])).toEqual(new Uint8Array([1, 0]));
    expect(() => decode("BOOL", 1, [1])).toThrow("element 0 is 1, expected true or false");
    expect(decode("INT64", 1, [-5])).toEqual(new BigInt64Array([-5n]));
    expect(() => decode("UINT64", 1, [-1])).toThrow("element 0 is -1, expected a UINT64");
    expect(decode("FP16", 2, [1, -2])).toEqual(new Uint16Array([0x3c00, 0xc000]));
    expect(decode("BF16", 1, [1])).toEqual(new Uint16Array([0x3f80]));
    expect(decode("BYTES", 1, ["hi"])).toEqual([new TextEncoder().encode("hi")]);
  });
});

describe("tensorDataToJson", () => {
  test("FP32 in its shortest float32 digits, non-finite values as null", () => {
    const data = new Float32Array([0.1, -2.5, 3, Number.NaN, Number.POSITIVE_INFINITY, 1e-7, -0]);
    expect(tensorDataToJson("FP32", data)).toBe("[0.1,-2.5,3,null,null,1e-7,-0]");
    expect(tensorDataToJson("FP32", new Float32Array(0))).toBe("[]");
  });

  test("integers, FP16, BF16, BOOL, 64-bit, FP64 and BYTES", () => {
    expect(tensorDataToJson("INT32", new Int32Array([-2_147_483_648, 0, 42]))).toBe("[-2147483648,0,42]");
    expect(tensorDataToJson("UINT32", new Uint32Array([4_294_967_295]))).toBe("[4294967295]");
    expect(tensorDataToJson("INT8", new Int8Array([-128, 127]))).toBe("[-128,127]");
    expect(tensorDataToJson("FP16", new Uint16Array([0x3c00, 0xc000, 0x2e66, 0x7c00]))).toBe(
      "[1,-2,0.099975586,null]", // float32 digits of 0.0999755859375
    );
    expect(tensorDataToJson("BF16", new Uint16Array([0x3f80, 0x3dcd]))).toBe("[1,0.100097656]");
    expect(tensorDataToJson("BOOL", new Uint8Array([1, 0]))).toBe("[true,false]");
    expect(tensorDataToJson("INT64", new BigInt64Array([-(2n ** 63n)]))).toBe("[-9223372036854775808]");
    expect(tensorDataToJson("FP64", new Float64Array([0.1, Number.NaN]))).toBe("[0.1,null]");
    expect(tensorDataToJson("BYTES", [new TextEncoder().encode('a"é')])).toBe('["a\\"é"]');
  });

  test("every finite FP16 and BF16 value parses back to the same bits", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) !== 0x7c00) {
        const text = tensorDataToJson("FP16", new Uint16Array([bits]));
        expect(decode("FP16", 1, JSON.parse(text))[0]).toBe(bits);
      }
      if ((bits & 0x7f80) !== 0x7f80) {
        const text = tensorDataToJson("BF16", new Uint16Array([bits]));
        expect(decode("BF16", 1, JSON.parse(text))[0]).toBe(bits);
      }
    }
  });
});
