import { describe, expect, it } from "bun:test";
import { fillDefaults } from "../../src/config/defaults.ts";
import { readConfigText } from "../../src/config/read-config.ts";
import { validateConfig } from "../../src/config/validate.ts";
import { ONNX_BACKEND as backend, completedConfig, FP32_TENSORS as TENSORS } from "../support/config-text.ts";

function check(text: string, name = "m"): void {
  validateConfig(completedConfig(text, name), name, "m/config.pbtxt");
}

describe("validateConfig", () => {
  it("accepts a complete config", () => {
    expect(() =>
      check(`max_batch_size: 4 ${TENSORS} dynamic_batching { preferred_batch_size: [2, 4] }`),
    ).not.toThrow();
  });

  const invalid: [string, string, string][] = [
    [
      "a name that differs from the directory",
      `name: "other" ${TENSORS}`,
      "name: 'other' does not match the model directory 'm'",
    ],
    ["a negative max_batch_size", `max_batch_size: -1 ${TENSORS}`, "max_batch_size: must be >= 0"],
    [
      "duplicate input names",
      `input [{ name: "a" data_type: TYPE_FP32 dims: [1] }, { name: "a" data_type: TYPE_FP32 dims: [1] }] output [{ name: "b" data_type: TYPE_FP32 dims: [1] }]`,
      "input[1].name: duplicate input name 'a'",
    ],
    [
      "a missing datatype",
      `input [{ name: "a" dims: [1] }] output [{ name: "b" data_type: TYPE_FP32 dims: [1] }]`,
      "input[0].data_type: TYPE_INVALID is not a tensor datatype",
    ],
    [
      "empty dims",
      `input [{ name: "a" data_type: TYPE_FP32 }] output [{ name: "b" data_type: TYPE_FP32 dims: [1] }]`,
      "input[0].dims: must list at least one dimension",
    ],
    [
      "a zero dim",
      `input [{ name: "a" data_type: TYPE_FP32 dims: [2, 0] }] output [{ name: "b" data_type: TYPE_FP32 dims: [1] }]`,
      "input[0].dims[1]: must be -1 or positive, got 0",
    ],
    [
      "no outputs",
      `input [{ name: "a" data_type: TYPE_FP32 dims: [1] }]`,
      "output: a model needs at least one output",
    ],
    [
      "a reshape of another size",
      `input [{ name: "a" data_type: TYPE_FP32 dims: [4] reshape { shape: [3] } }] output [{ name: "b" data_type: TYPE_FP32 dims: [1] }]`,
      "input[0].reshape: shape [3] holds 3 elements but dims hold 4",
    ],
    [
      "dynamic batching without batching",
      `max_batch_size: 0 ${TENSORS} dynamic_batching {}`,
      "dynamic_batching: needs max_batch_size >= 1",
    ],
    [
      "a preferred batch size over the maximum",
      `max_batch_size: 4 ${TENSORS} dynamic_batching { preferred_batch_size: [8] }`,
      "dynamic_batching.preferred_batch_size[0]: must be in [1, 4], got 8",
    ],
    [
      "a default priority outside the levels",
      `max_batch_size: 4 ${TENSORS} dynamic_batching { priority_levels: 2 default_priority_level: 3 }`,
      "dynamic_batching.default_priority_level: must be in [1, 2], got 3",
    ],
    [
      "an empty specific version list",
      `${TENSORS} version_policy { specific {} }`,
      "version_policy.specific.versions: must list at least one version",
    ],
    [
      "a negative instance count",
      `${TENSORS} instance_group [{ count: -2 kind: KIND_CPU }]`,
      "instance_group[0].count: must be >= 1, got -2",
    ],
    [
      "GPUs on a CPU group",
      `${TENSORS} instance_group [{ kind: KIND_CPU gpus: [0] }]`,
      "instance_group[0].gpus: must be empty for KIND_CPU",
    ],
  ];
  for (const [title, text, message] of invalid) {
    it(`rejects ${title} with the field path`, () => {
      expect(() => check(text)).toThrow(`config: m/config.pbtxt: ${message}`);
    });
  }

  it("reports every problem at once", () => {
    expect(() => check(`max_batch_size: -1 input [{ name: "" data_type: TYPE_FP32 dims: [1] }]`)).toThrow(
      /max_batch_size: must be >= 0.*input\[0\]\.name: must not be empty.*output: a model needs at least one output/,
    );
  });
});

describe("fillDefaults", () => {
  it("fills what tritonserver shows in a completed config", () => {
    const config = readConfigText(TENSORS, "c");
    fillDefaults(config, "m", backend, []);
    expect(config.name).toBe("m");
    expect(config.backend).toBe("onnxruntime");
    expect(config.platform).toBe("onnxruntime_onnx");
    expect(config.defaultModelFilename).toBe("model.onnx");
    expect(config.versionPolicy?.policyChoice.case).toBe("latest");
    const group = config.instanceGroup[0];
    expect([group?.name, group?.kind, group?.count]).toEqual(["m", 2, 2]);
    expect(config.optimization?.inputPinnedMemory?.enable).toBe(true);
  });

  it("names several groups by index and resolves KIND_AUTO to the GPUs present", () => {
    const config = readConfigText(`${TENSORS} instance_group [{ count: 1 }, { kind: KIND_CPU }]`, "c");
    fillDefaults(config, "m", backend, [0, 1]);
    expect(config.instanceGroup.map((group) => [group.name, group.kind, group.count, group.gpus])).toEqual([
      ["m_0", 1, 1, [0, 1]],
      ["m_1", 2, 2, []],
    ]);
  });
});
