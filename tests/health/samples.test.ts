import { describe, expect, it } from "bun:test";
import { readConfigText } from "../../src/config/read-config.ts";
import { warmupSamples } from "../../src/health/samples.ts";

const noFiles = async () => undefined;

describe("warmupSamples", () => {
  it("makes one sample of zeros from the config when there is no model_warmup", async () => {
    const config = readConfigText(
      `max_batch_size: 4 input [{ name: "A" data_type: TYPE_FP32 dims: [2, -1] }, { name: "S" data_type: TYPE_STRING dims: [1] }]`,
      "c",
    );
    const [sample] = await warmupSamples(config, noFiles);
    expect(sample?.name).toBe("synthetic zeros");
    expect(
      sample?.inputs.map((input) => [input.name, input.shape, Array.from(input.data as ArrayLike<unknown>)]),
    ).toEqual([
      ["A", [1, 2, 1], [0, 0]],
      ["S", [1, 1], [new Uint8Array(0)]],
    ]);
  });

  it("adds the sequence batcher's controls and state to the synthetic sample", async () => {
    const config = readConfigText(
      `max_batch_size: 2 input [{ name: "IN" data_type: TYPE_INT32 dims: [1] }]
       sequence_batching {
         control_input [{ name: "START" control [{ kind: CONTROL_SEQUENCE_START bool_false_true: [false, true] }] },
                        { name: "CORRID" control [{ kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 }] }]
         state [{ input_name: "STATE" output_name: "STATE_OUT" data_type: TYPE_FP32 dims: [3] }] }`,
      "c",
    );
    const [sample] = await warmupSamples(config, noFiles);
    expect(sample?.inputs.map((input) => [input.name, input.datatype, input.shape])).toEqual([
      ["IN", "INT32", [1, 1]],
      ["START", "BOOL", [1, 1]],
      ["CORRID", "UINT64", [1, 1]],
      ["STATE", "FP32", [1, 3]],
    ]);
  });

  it("reads model_warmup: zero, random and file data, batch size and count", async () => {
    const config = readConfigText(
      `max_batch_size: 4 model_warmup [{
         name: "w" batch_size: 3 count: 5
         inputs { key: "Z" value { data_type: TYPE_INT32 dims: [2] zero_data: true } }
         inputs { key: "R" value { data_type: TYPE_FP32 dims: [2] random_data: true } }
         inputs { key: "F" value { data_type: TYPE_INT16 dims: [2] input_data_file: "row" } }
       }]`,
      "c",
    );
    const files = async (path: string) =>
      path === "warmup/row" ? new Uint8Array(new Int16Array([7, -7]).buffer) : undefined;
    const [sample] = await warmupSamples(config, files);
    expect([sample?.name, sample?.batchSize, sample?.count]).toEqual(["w", 3, 5]);
    const byName = new Map(sample?.inputs.map((input) => [input.name, input]));
    expect(Array.from(byName.get("Z")?.data as Int32Array)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(byName.get("R")?.shape).toEqual([3, 2]);
    expect(Array.from(byName.get("R")?.data as Float32Array).every((value) => value >= 0 && value < 1)).toBe(
      true,
    );
    expect(Array.from(byName.get("F")?.data as Int16Array)).toEqual([7, -7, 7, -7, 7, -7]);
  });

  it("names a missing warm-up file", async () => {
    const config = readConfigText(
      `model_warmup [{ inputs { key: "F" value { data_type: TYPE_INT16 dims: [2] input_data_file: "nope" } } }]`,
      "c",
    );
    await expect(warmupSamples(config, noFiles)).rejects.toThrow(
      "model_warmup[0].inputs['F']: warmup/nope not found",
    );
  });
});
