import { addReshaper, type TestRepository } from "./model-repo.ts";
import { addSubModel } from "./onnx-builder.ts";
import { addSlow, SLOW_WIDTH } from "./slow-model.ts";

const INT32_16 = (name: string) => `{ name: "${name}" data_type: TYPE_INT32 dims: [ 16 ] }`;
const TENSORS = `input [ ${INT32_16("INPUT0")}, ${INT32_16("INPUT1")} ] output [ ${INT32_16("OUTPUT0")}, ${INT32_16("OUTPUT1")} ]`;

export interface StepText {
  model: string;
  version?: number;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

/** An ensemble's config.pbtxt from its steps (plus any extra fields). */
export function ensembleConfig(name: string, tensors: string, steps: StepText[], extra = ""): string {
  const map = (field: string, entries: Record<string, string>) =>
    Object.entries(entries)
      .map(([key, value]) => `${field} { key: "${key}" value: "${value}" }`)
      .join(" ");
  const stepText = steps
    .map(
      (step) =>
        `{ model_name: "${step.model}" model_version: ${step.version ?? -1} ${map("input_map", step.inputs)} ${map("output_map", step.outputs)} }`,
    )
    .join(", ");
  return `name: "${name}" platform: "ensemble" max_batch_size: 8 ${tensors} ensemble_scheduling { step [ ${stepText} ] } ${extra}`;
}

/** Adds an ensemble with an (empty) version 1 directory. */
export function addEnsemble(repo: TestRepository, name: string, config: string): TestRepository {
  return repo.addModel(name, { config, extra: { "1/.keep": "" } });
}

/**
 * The ensembles the serving tests use, over `add_sub` (INT32 [16] sum and
 * difference, dynamic batching with a 20 ms window so concurrent ensemble
 * requests batch in it):
 * - `ensemble_add_sub`: tritonclient's simple ensemble, one add/sub step;
 * - `fan`: two independent steps feeding a third: OUTPUT0 = 2·INPUT1, OUTPUT1 = 2·INPUT0;
 * - `failing`: a step into `reshaper` that fails at run time on a bad SHAPE;
 * - `slow_chain`: `slow_a` then `slow_b`, for cancellation between steps.
 */
export function addEnsembles(repo: TestRepository): TestRepository {
  repo.addModel("add_sub", {
    config: `name: "add_sub" backend: "onnxruntime" max_batch_size: 8 ${TENSORS}
instance_group [ { kind: KIND_CPU count: 1 } ]
dynamic_batching { max_queue_delay_microseconds: 20000 }`,
    versions: { 1: addSubModel("INT32", ["batch", 16]) },
  });
  const both = { INPUT0: "INPUT0", INPUT1: "INPUT1" };
  addEnsemble(
    repo,
    "ensemble_add_sub",
    ensembleConfig("ensemble_add_sub", TENSORS, [
      { model: "add_sub", inputs: both, outputs: { OUTPUT0: "OUTPUT0", OUTPUT1: "OUTPUT1" } },
    ]),
  );
  addEnsemble(
    repo,
    "fan",
    ensembleConfig("fan", TENSORS, [
      { model: "add_sub", inputs: both, outputs: { OUTPUT0: "SUM" } },
      { model: "add_sub", inputs: { INPUT0: "INPUT1", INPUT1: "INPUT0" }, outputs: { OUTPUT1: "DIFF" } },
      {
        model: "add_sub",
        inputs: { INPUT0: "SUM", INPUT1: "DIFF" },
        outputs: { OUTPUT0: "OUTPUT0", OUTPUT1: "OUTPUT1" },
      },
    ]),
  );
  addReshaper(repo);
  addEnsemble(
    repo,
    "failing",
    `name: "failing" platform: "ensemble" max_batch_size: 0
input [ { name: "DATA" data_type: TYPE_FP32 dims: [ -1 ] }, { name: "SHAPE" data_type: TYPE_INT64 dims: [ 2 ] } ]
output [ { name: "OUT" data_type: TYPE_FP32 dims: [ -1, -1 ] } ]
ensemble_scheduling { step [ { model_name: "reshaper" model_version: -1 input_map { key: "DATA" value: "DATA" } input_map { key: "SHAPE" value: "SHAPE" } output_map { key: "OUTPUT0" value: "OUT" } } ] }`,
  );
  addSlow(repo, "slow_a");
  addSlow(repo, "slow_b");
  const slow = (name: string) => `{ name: "${name}" data_type: TYPE_FP32 dims: [ ${SLOW_WIDTH} ] }`;
  addEnsemble(
    repo,
    "slow_chain",
    ensembleConfig("slow_chain", `input [ ${slow("IN")} ] output [ ${slow("OUT")} ]`, [
      { model: "slow_a", inputs: { INPUT0: "IN" }, outputs: { OUTPUT0: "MID" } },
      { model: "slow_b", inputs: { INPUT0: "MID" }, outputs: { OUTPUT0: "OUT" } },
    ]),
  );
  return repo;
}
