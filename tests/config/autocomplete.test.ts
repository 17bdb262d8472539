import { describe, expect, it } from "bun:test";
import { autoComplete } from "../../src/config/autocomplete.ts";
import { readConfigText } from "../../src/config/read-config.ts";
import type { ModelSignature } from "../../src/config/signature.ts";
import { DataType } from "../../src/gen/model_config_pb.ts";

const batchable: ModelSignature = {
  inputs: [{ name: "x", datatype: "FP32", shape: [-1, 3, -1], frameworkType: "float32" }],
  outputs: [{ name: "y", datatype: "INT64", shape: [-1, 10], frameworkType: "int64" }],
};
const fixed: ModelSignature = {
  inputs: [{ name: "x", datatype: "FP32", shape: [1, 3], frameworkType: "float32" }],
  outputs: [{ name: "y", datatype: "FP32", shape: [1], frameworkType: "float32" }],
};
const options = { defaultMaxBatchSize: 4 };

describe("autoComplete", () => {
  it("fills inputs, outputs, max_batch_size and dynamic batching for a batchable model", () => {
    const config = autoComplete(readConfigText("", "c"), batchable, options);
    expect(config.maxBatchSize).toBe(4);
    expect(config.input.map((input) => [input.name, input.dataType, input.dims])).toEqual([
      ["x", DataType.TYPE_FP32, [3n, -1n]],
    ]);
    expect(config.output.map((output) => [output.name, output.dataType, output.dims])).toEqual([
      ["y", DataType.TYPE_INT64, [10n]],
    ]);
    expect(config.schedulingChoice.case).toBe("dynamicBatching");
  });

  it("uses --backend-config default-max-batch-size", () => {
    expect(autoComplete(readConfigText("", "c"), batchable, { defaultMaxBatchSize: 16 }).maxBatchSize).toBe(
      16,
    );
  });

  it("keeps max_batch_size 0 and full dims when the first dim is fixed", () => {
    const config = autoComplete(readConfigText("", "c"), fixed, options);
    expect(config.maxBatchSize).toBe(0);
    expect(config.input[0]?.dims).toEqual([1n, 3n]);
    expect(config.schedulingChoice.case).toBeUndefined();
  });

  it("completes a partial config without overriding what it states", () => {
    const written = readConfigText(
      'max_batch_size: 2 input [{ name: "x" dims: [3, 5] }] sequence_batching {}',
      "c",
    );
    const config = autoComplete(written, batchable, options);
    expect(config.maxBatchSize).toBe(2);
    expect(config.input[0]?.dims).toEqual([3n, 5n]);
    expect(config.input[0]?.dataType).toBe(DataType.TYPE_FP32);
    expect(config.output[0]?.dims).toEqual([10n]);
    expect(config.schedulingChoice.case).toBe("sequenceBatching");
  });

  it("does not add dynamic batching at max_batch_size 1", () => {
    const config = autoComplete(readConfigText("max_batch_size: 1", "c"), batchable, options);
    expect(config.schedulingChoice.case).toBeUndefined();
  });

  it("leaves out the tensors the sequence batcher feeds and keeps", () => {
    const stateful: ModelSignature = {
      inputs: [
        { name: "INPUT", datatype: "INT32", shape: [-1, 1], frameworkType: "int32" },
        { name: "START", datatype: "BOOL", shape: [-1, 1], frameworkType: "bool" },
        { name: "STATE_IN", datatype: "INT32", shape: [-1, 1], frameworkType: "int32" },
      ],
      outputs: [
        { name: "OUTPUT", datatype: "INT32", shape: [-1, 1], frameworkType: "int32" },
        { name: "STATE_OUT", datatype: "INT32", shape: [-1, 1], frameworkType: "int32" },
      ],
    };
    const written = readConfigText(
      `max_batch_size: 4 sequence_batching {
        control_input [{ name: "START" control [{ kind: CONTROL_SEQUENCE_START bool_false_true: [false, true] }] }]
        state [{ input_name: "STATE_IN" output_name: "STATE_OUT" data_type: TYPE_INT32 dims: [1] }] }`,
      "c",
    );
    const config = autoComplete(written, stateful, options);
    expect(config.input.map((input) => input.name)).toEqual(["INPUT"]);
    expect(config.output.map((output) => output.name)).toEqual(["OUTPUT"]);
  });

  it("rejects a model tensor of a type the protocol cannot carry", () => {
    const signature: ModelSignature = {
      inputs: [{ name: "m", datatype: undefined, shape: undefined, frameworkType: "non-tensor" }],
      outputs: batchable.outputs,
    };
    expect(() => autoComplete(readConfigText("", "c"), signature, options)).toThrow(
      "config: model tensor 'm' has type non-tensor",
    );
  });
});
