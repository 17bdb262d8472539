import { describe, expect, it } from "bun:test";
import { encodeGrpcMessage } from "../../../src/protocol/grpc/grpc-message.ts";

describe("encodeGrpcMessage", () => {
  it("keeps printable ASCII as it is, ':' and ',' included", () => {
    expect(encodeGrpcMessage("backend: input 'x' expects INT32, got FP32")).toBe(
      "backend: input 'x' expects INT32, got FP32",
    );
  });
  it("escapes '%', control characters and non-ASCII as UTF-8 bytes", () => {
    expect(encodeGrpcMessage("100% é\n")).toBe("100%25 %C3%A9%0A");
  });
});
