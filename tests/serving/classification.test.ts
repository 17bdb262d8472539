import { describe, expect, it } from "bun:test";
import { classify } from "../../src/serving/classification.ts";

const text = (data: unknown) => (data as Uint8Array[]).map((element) => new TextDecoder().decode(element));

describe("classify", () => {
  it("returns the top N as value:index, highest first", () => {
    const result = classify(
      { name: "y", datatype: "FP32", shape: [4], data: new Float32Array([1.1, 3.3, 0.5, 2.4]) },
      2,
      false,
    );
    expect(result.datatype).toBe("BYTES");
    expect(result.shape).toEqual([2]);
    expect(text(result.data)).toEqual(["3.300000:1", "2.400000:3"]);
  });

  it("classifies each batch row and appends labels", () => {
    const tensor = {
      name: "y",
      datatype: "INT32" as const,
      shape: [2, 3],
      data: new Int32Array([1, 9, 5, 7, 0, 8]),
    };
    const result = classify(tensor, 1, true, ["cat", "dog", "fox"]);
    expect(result.shape).toEqual([2, 1]);
    expect(text(result.data)).toEqual(["9:1:dog", "8:2:fox"]);
  });
});
