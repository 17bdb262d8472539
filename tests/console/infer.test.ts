import { describe, expect, it } from "bun:test";
import { parseServerTiming } from "../../src/console/infer.ts";

describe("parseServerTiming", () => {
  it("reads each stage's duration", () => {
    expect(parseServerTiming("queue;dur=0.012, compute_infer;dur=1.500, total")).toEqual([
      { name: "queue", ms: 0.012 },
      { name: "compute_infer", ms: 1.5 },
      { name: "total", ms: 0 },
    ]);
    expect(parseServerTiming("")).toEqual([]);
  });
});
