import { describe, expect, test } from "bun:test";
import type { InferResponse } from "../../../src/core/request.ts";
import { encodeInferResponse } from "../../../src/protocol/http/infer-response.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("encodeInferResponse", () => {
  const response = {
    id: "7",
    model: "m",
    version: "1",
    parameters: { sequence_id: 3 },
    outputs: [
      { name: "A", datatype: "FP32", shape: [1, 2], data: new Float32Array([0.1, -1]) },
      { name: "B", datatype: "INT32", shape: [2], data: new Int32Array([5, -6]) },
    ],
  } as unknown as InferResponse;

  test("JSON outputs printed in place, keys in tritonserver's order", () => {
    const { body, headerLength } = encodeInferResponse(response, () => false);
    expect(headerLength).toBeUndefined();
    expect(text(body)).toBe(
      '{"id":"7","model_name":"m","model_version":"1","parameters":{"sequence_id":3},"outputs":[' +
        '{"name":"A","datatype":"FP32","shape":[1,2],"data":[0.1,-1]},' +
        '{"name":"B","datatype":"INT32","shape":[2],"data":[5,-6]}]}',
    );
  });

  test("binary outputs follow the JSON header as raw chunks", () => {
    const { body, headerLength } = encodeInferResponse(response, (name) => name === "A");
    const header = text(body.subarray(0, headerLength));
    expect(JSON.parse(header).outputs).toEqual([
      { name: "A", datatype: "FP32", shape: [1, 2], parameters: { binary_data_size: 8 } },
      { name: "B", datatype: "INT32", shape: [2], data: [5, -6] },
    ]);
    expect(new Float32Array(body.slice(headerLength).buffer)).toEqual(new Float32Array([0.1, -1]));
  });

  test("large tensors and non-ASCII names grow the buffer", () => {
    const data = new Float32Array(100_000).fill(-1.2345678e-5);
    const big = {
      model: "é",
      version: "1",
      outputs: [{ name: "ñ", datatype: "FP32", shape: [100_000], data }],
    };
    const parsed = JSON.parse(text(encodeInferResponse(big as unknown as InferResponse, () => false).body));
    expect(parsed.model_name).toBe("é");
    expect(parsed.outputs[0].name).toBe("ñ");
    expect(new Float32Array(parsed.outputs[0].data)).toEqual(data);
  });
});
