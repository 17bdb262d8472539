import { describe, expect, it } from "bun:test";
import { checkAgainstModelFile } from "../../src/config/model-file-check.ts";
import { readConfigText } from "../../src/config/read-config.ts";
import type { ModelSignature } from "../../src/config/signature.ts";

const signature: ModelSignature = {
  inputs: [{ name: "x", datatype: "FP32", shape: [-1, 4], frameworkType: "float32" }],
  outputs: [{ name: "y", datatype: "FP32", shape: [-1, 4], frameworkType: "float32" }],
};

function check(text: string): void {
  checkAgainstModelFile(readConfigText(text, "c"), signature, "m/config.pbtxt");
}

describe("checkAgainstModelFile", () => {
  it("accepts a config that matches the model file", () => {
    expect(() =>
      check(
        `max_batch_size: 8 input [{ name: "x" data_type: TYPE_FP32 dims: [4] }] output [{ name: "y" data_type: TYPE_FP32 dims: [4] }]`,
      ),
    ).not.toThrow();
  });

  it("rejects a tensor the model does not have", () => {
    expect(() =>
      check(
        `max_batch_size: 8 input [{ name: "x" data_type: TYPE_FP32 dims: [4] }] output [{ name: "z" data_type: TYPE_FP32 dims: [4] }]`,
      ),
    ).toThrow("output[0] 'z': not an output of the model file (it has: y)");
  });

  it("rejects a datatype the model does not use", () => {
    expect(() =>
      check(
        `max_batch_size: 8 input [{ name: "x" data_type: TYPE_INT32 dims: [4] }] output [{ name: "y" data_type: TYPE_FP32 dims: [4] }]`,
      ),
    ).toThrow("input[0] 'x': config says TYPE_INT32, the model file says float32");
  });

  it("rejects dims that disagree with the model's fixed dims", () => {
    expect(() =>
      check(
        `max_batch_size: 8 input [{ name: "x" data_type: TYPE_FP32 dims: [5] }] output [{ name: "y" data_type: TYPE_FP32 dims: [4] }]`,
      ),
    ).toThrow("input[0] 'x': config shape [-1,5] does not match the model file's [-1,4] at dim 1");
  });

  it("rejects a rank that ignores the batch dimension", () => {
    expect(() =>
      check(
        `max_batch_size: 0 input [{ name: "x" data_type: TYPE_FP32 dims: [4] }] output [{ name: "y" data_type: TYPE_FP32 dims: [-1, 4] }]`,
      ),
    ).toThrow(
      "input[0] 'x': config shape [4] (with batch dim) has rank 1, the model file's [-1,4] has rank 2",
    );
  });

  it("rejects a config that leaves out a model input", () => {
    expect(() => check(`max_batch_size: 8 output [{ name: "y" data_type: TYPE_FP32 dims: [4] }]`)).toThrow(
      "model file input 'x' is missing from the config",
    );
  });
});
