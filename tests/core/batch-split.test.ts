import { describe, expect, it } from "bun:test";
import { concatAlongBatch, splitAlongBatch } from "../../src/core/batch-split.ts";

describe("splitAlongBatch", () => {
  it("splits rows by request sizes into views of one buffer", () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const parts = splitAlongBatch({ name: "y", datatype: "FP32", shape: [3, 2], data }, [1, 2]);
    expect(parts.map((part) => [part.shape, Array.from(part.data as Float32Array)])).toEqual([
      [
        [1, 2],
        [0, 1],
      ],
      [
        [2, 2],
        [2, 3, 4, 5],
      ],
    ]);
    expect((parts[1] as { data: Float32Array }).data.buffer).toBe(data.buffer);
  });
});

describe("concatAlongBatch", () => {
  it("joins requests along dim 0", () => {
    const a = { name: "x", datatype: "INT64" as const, shape: [1, 2], data: new BigInt64Array([1n, 2n]) };
    const b = {
      name: "x",
      datatype: "INT64" as const,
      shape: [2, 2],
      data: new BigInt64Array([3n, 4n, 5n, 6n]),
    };
    const joined = concatAlongBatch([a, b]);
    expect(joined.shape).toEqual([3, 2]);
    expect(Array.from(joined.data as BigInt64Array)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
  });

  it("joins BYTES element lists", () => {
    const element = new Uint8Array([1]);
    const joined = concatAlongBatch([
      { name: "s", datatype: "BYTES", shape: [1, 1], data: [element] },
      { name: "s", datatype: "BYTES", shape: [1, 1], data: [element] },
    ]);
    expect(joined.shape).toEqual([2, 1]);
    expect(joined.data).toHaveLength(2);
  });
});
