import { describe, expect, it } from "bun:test";
import { create } from "@bufbuild/protobuf";
import type { ModelInterface } from "../../../src/config/model-interface.ts";
import type { TensorSpec } from "../../../src/config/tensor-spec.ts";
import type { DataType } from "../../../src/core/datatype.ts";
import { FerryError } from "../../../src/core/errors.ts";
import { ModelEnsembling_StepSchema, ModelEnsemblingSchema } from "../../../src/gen/model_config_pb.ts";
import { planEnsemble, stepsFor } from "../../../src/serving/ensemble/ensemble-plan.ts";

const spec = (name: string, datatype: DataType = "INT32", dims = [16], optional = false): TensorSpec => ({
  name,
  datatype,
  dims,
  reshape: undefined,
  optional,
  labelFilename: undefined,
});

/** `add_sub`: OUT_SUM, OUT_DIFF from IN_A, IN_B (INT32 [16], max_batch_size 8). */
const addSub: ModelInterface = {
  name: "add_sub",
  maxBatchSize: 8,
  inputs: [spec("IN_A"), spec("IN_B")],
  outputs: [spec("OUT_SUM"), spec("OUT_DIFF")],
};
const models: Record<string, ModelInterface> = {
  add_sub: addSub,
  small_batch: { ...addSub, name: "small_batch", maxBatchSize: 2 },
  no_batch: { ...addSub, name: "no_batch", maxBatchSize: 0 },
  float_in: { ...addSub, name: "float_in", inputs: [spec("IN_A", "FP32"), spec("IN_B", "FP32")] },
};

type Step = {
  model: string;
  version?: number;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
};

function plan(steps: Step[], ensemble: Partial<ModelInterface> = {}) {
  return planEnsemble({
    name: "ens",
    model: {
      name: "ens",
      maxBatchSize: 8,
      inputs: [spec("A"), spec("B")],
      outputs: [spec("SUM"), spec("DIFF")],
      ...ensemble,
    },
    scheduling: create(ModelEnsemblingSchema, {
      step: steps.map((step) =>
        create(ModelEnsembling_StepSchema, {
          modelName: step.model,
          modelVersion: BigInt(step.version ?? -1),
          inputMap: step.inputs,
          outputMap: step.outputs,
        }),
      ),
    }),
    composing: (model) => {
      const found = models[model];
      if (!found)
        throw new FerryError("NOT_FOUND", "repository", `Request for unknown model: '${model}' is not found`);
      return found;
    },
  });
}

function problems(steps: Step[], ensemble: Partial<ModelInterface> = {}): string {
  try {
    plan(steps, ensemble);
  } catch (error) {
    expect(error).toBeInstanceOf(FerryError);
    return (error as FerryError).message;
  }
  throw new Error("the plan was accepted");
}

const straight: Step = {
  model: "add_sub",
  inputs: { IN_A: "A", IN_B: "B" },
  outputs: { OUT_SUM: "SUM", OUT_DIFF: "DIFF" },
};

describe("planEnsemble", () => {
  it("plans a valid ensemble: steps, producers, and the steps each output needs", () => {
    const fanOut: Step[] = [
      { model: "add_sub", inputs: { IN_A: "A", IN_B: "B" }, outputs: { OUT_SUM: "S1" } },
      { model: "add_sub", inputs: { IN_A: "B", IN_B: "A" }, outputs: { OUT_DIFF: "D2" } },
      { model: "add_sub", inputs: { IN_A: "S1", IN_B: "D2" }, outputs: { OUT_SUM: "SUM", OUT_DIFF: "DIFF" } },
    ];
    const planned = plan(fanOut);
    expect(planned.steps.map((step) => step.inputs.map((input) => input.tensor))).toEqual([
      ["A", "B"],
      ["B", "A"],
      ["S1", "D2"],
    ]);
    expect(stepsFor(planned, ["SUM"]).map((step) => step.index)).toEqual([0, 1, 2]);
    expect(plan([{ ...straight, version: 3 }]).steps[0]?.version).toBe("3");
  });

  const cases: [string, Step[], Partial<ModelInterface>, string][] = [
    [
      "an unknown model",
      [{ ...straight, model: "nope" }],
      {},
      "step 0 (model 'nope'): not available: Request for unknown model: 'nope' is not found",
    ],
    [
      "an unmapped required input",
      [{ ...straight, inputs: { IN_A: "A" } }],
      {},
      "step 0 (model 'add_sub'): input 'IN_B' is not mapped by input_map",
    ],
    [
      "an input_map key the model lacks",
      [{ ...straight, inputs: { IN_A: "A", IN_B: "B", IN_C: "A" } }],
      {},
      "step 0 (model 'add_sub'): input_map names input 'IN_C', which the model lacks (IN_A, IN_B)",
    ],
    [
      "an output_map key the model lacks",
      [{ ...straight, outputs: { OUT_SUM: "SUM", OUT_DIFF: "DIFF", OUT_X: "X" } }],
      {},
      "step 0 (model 'add_sub'): output_map names output 'OUT_X', which the model lacks (OUT_SUM, OUT_DIFF)",
    ],
    [
      "a tensor produced twice",
      [straight, { ...straight, outputs: { OUT_SUM: "SUM" } }],
      {},
      "tensor 'SUM' is produced twice: by step 0 (model 'add_sub') output 'OUT_SUM' and by step 1 (model 'add_sub') output 'OUT_SUM'",
    ],
    [
      "a step output named like an ensemble input",
      [{ ...straight, outputs: { OUT_SUM: "A", OUT_DIFF: "DIFF" } }],
      {},
      "tensor 'A' is produced twice: by ensemble input and by step 0 (model 'add_sub') output 'OUT_SUM'",
    ],
    [
      "a tensor nobody produces",
      [{ ...straight, inputs: { IN_A: "A", IN_B: "MISSING" } }],
      {},
      "step 0 (model 'add_sub') input 'IN_B': tensor 'MISSING' is neither an ensemble input nor produced by any step",
    ],
    [
      "an ensemble output nobody produces",
      [{ ...straight, outputs: { OUT_SUM: "SUM" } }],
      {},
      "ensemble output 'DIFF' is not produced by any step",
    ],
    [
      "a datatype mismatch",
      [{ ...straight, model: "float_in" }],
      {},
      "step 0 (model 'float_in') input 'IN_A': tensor 'A' from ensemble input is INT32, but FP32 is expected",
    ],
    [
      "a shape mismatch",
      [straight],
      { outputs: [spec("SUM", "INT32", [8]), spec("DIFF")] },
      "ensemble output 'SUM' from step 0 (model 'add_sub') output 'OUT_SUM' has shape [-1,16], but [-1,8] is expected",
    ],
    [
      "a cycle",
      [
        { model: "add_sub", inputs: { IN_A: "A", IN_B: "X" }, outputs: { OUT_SUM: "Y", OUT_DIFF: "DIFF" } },
        { model: "add_sub", inputs: { IN_A: "Y", IN_B: "B" }, outputs: { OUT_SUM: "X" } },
        { model: "add_sub", inputs: { IN_A: "A", IN_B: "B" }, outputs: { OUT_SUM: "SUM" } },
      ],
      {},
      "steps 0 → 1 → 0 form a cycle",
    ],
    [
      "a max_batch_size larger than a composing model's",
      [{ ...straight, model: "small_batch" }],
      {},
      "step 0 (model 'small_batch'): the ensemble's max_batch_size 8 is larger than the model's 2",
    ],
    [
      "a batching ensemble over a model that does not batch",
      [{ ...straight, model: "no_batch" }],
      {},
      "step 0 (model 'no_batch'): the model does not batch (max_batch_size 0) but the ensemble's max_batch_size is 8",
    ],
  ];
  for (const [what, steps, ensemble, message] of cases) {
    it(`refuses ${what}, naming the ensemble, the step and the tensor`, () => {
      const text = problems(steps, ensemble);
      expect(text).toStartWith("config: ensemble 'ens': ");
      expect(text).toContain(message);
    });
  }
});
