import { describe, expect, it } from "bun:test";
import type { ModelInterface } from "../../src/config/model-interface.ts";
import type { InferRequest } from "../../src/core/request.ts";
import { StageClock } from "../../src/core/stage-clock.ts";
import type { Tensor } from "../../src/core/tensor.ts";
import { checkRequest } from "../../src/serving/request-check.ts";

const spec = (name: string, dims: number[], extra: Partial<ModelInterface["inputs"][number]> = {}) => ({
  name,
  datatype: "INT32" as const,
  dims,
  reshape: undefined,
  optional: false,
  labelFilename: undefined,
  ...extra,
});
const model: ModelInterface = {
  name: "simple",
  maxBatchSize: 8,
  inputs: [spec("INPUT0", [16]), spec("INPUT1", [-1], { optional: true })],
  outputs: [spec("OUTPUT0", [16])],
};

function request(inputs: Tensor[], outputs?: string[]): InferRequest {
  const built: InferRequest = {
    model: "simple",
    inputs,
    parameters: {},
    signal: new AbortController().signal,
    timing: new StageClock(),
  };
  if (outputs) built.outputs = outputs.map((name) => ({ name }));
  return built;
}
const int32 = (name: string, shape: number[], count = shape.reduce((a, b) => a * b, 1)): Tensor => ({
  name,
  datatype: "INT32",
  shape,
  data: new Int32Array(count),
});

describe("checkRequest", () => {
  it("returns the batch size of a valid request", () => {
    expect(checkRequest(model, request([int32("INPUT0", [3, 16])])).batchSize).toBe(3);
  });

  const invalid: [string, InferRequest, string][] = [
    [
      "an unknown input",
      request([int32("INPUT0", [1, 16]), int32("EXTRA", [1, 1])]),
      "model 'simple' has no input 'EXTRA' (inputs: INPUT0, INPUT1)",
    ],
    [
      "a wrong datatype",
      request([{ ...int32("INPUT0", [1, 16]), datatype: "FP32", data: new Float32Array(16) }]),
      "model 'simple' input 'INPUT0' expects INT32, got FP32",
    ],
    [
      "a wrong shape",
      request([int32("INPUT0", [1, 15])]),
      "input 'INPUT0' has shape [1,15], expected [-1,16]",
    ],
    [
      "a batch over max_batch_size",
      request([int32("INPUT0", [9, 16])]),
      "batch size 9 is outside [1, 8] (max_batch_size)",
    ],
    ["a missing batch dimension", request([int32("INPUT0", [])]), "needs a batch dimension"],
    [
      "inputs of different batch sizes",
      request([int32("INPUT0", [2, 16]), int32("INPUT1", [3, 4])]),
      "inputs disagree on batch size: 2 and 3",
    ],
    [
      "a missing required input",
      request([int32("INPUT1", [1, 4])]),
      "model 'simple' needs input 'INPUT0', which the request lacks",
    ],
    [
      "the same input twice",
      request([int32("INPUT0", [1, 16]), int32("INPUT0", [1, 16])]),
      "input 'INPUT0' is given twice",
    ],
    [
      "data that does not fill the shape",
      request([int32("INPUT0", [1, 16], 3)]),
      "holds 3 elements but shape [1,16] needs 16",
    ],
    [
      "an unknown output",
      request([int32("INPUT0", [1, 16])], ["NOPE"]),
      "model 'simple' has no output 'NOPE' (outputs: OUTPUT0)",
    ],
    [
      "the same output twice",
      request([int32("INPUT0", [1, 16])], ["OUTPUT0", "OUTPUT0"]),
      "output 'OUTPUT0' is requested twice",
    ],
  ];
  for (const [title, bad, message] of invalid) {
    it(`rejects ${title}`, () => {
      expect(() => checkRequest(model, bad)).toThrow(message);
    });
  }

  it("applies the config reshape for the backend", () => {
    const reshaping: ModelInterface = { ...model, inputs: [spec("INPUT0", [16], { reshape: [4, -1] })] };
    expect(checkRequest(reshaping, request([int32("INPUT0", [2, 16])])).inputs[0]?.shape).toEqual([2, 4, 4]);
  });

  it("checks a non-batching model's full shape", () => {
    const flat: ModelInterface = { ...model, maxBatchSize: 0 };
    expect(checkRequest(flat, request([int32("INPUT0", [16])])).batchSize).toBe(1);
    expect(() => checkRequest(flat, request([int32("INPUT0", [1, 16])]))).toThrow("expected [16]");
  });
});
