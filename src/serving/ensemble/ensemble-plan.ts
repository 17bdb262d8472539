import type { ModelInterface } from "../../config/model-interface.ts";
import type { TensorSpec } from "../../config/tensor-spec.ts";
import { FerryError } from "../../core/errors.ts";
import { formatShape } from "../../core/tensor.ts";
import type { ModelEnsembling } from "../../gen/model_config_pb.ts";

/** One step of a validated ensemble: a composing model and how its tensors map to the ensemble's. */
export interface PlannedStep {
  index: number;
  model: string;
  /** undefined = the version the model's routes pick (model_version -1). */
  version: string | undefined;
  /** composing model input ← ensemble tensor; optional inputs may be absent at run time. */
  inputs: { input: string; tensor: string; optional: boolean }[];
  /** composing model output → ensemble tensor. */
  outputs: { output: string; tensor: string }[];
}

export interface EnsemblePlan {
  name: string;
  steps: PlannedStep[];
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** The step that produces each intermediate or output tensor. */
  producers: Map<string, PlannedStep>;
}

/** What the plan needs to know of the ensemble and of each composing model it names. */
export interface EnsembleSpec {
  name: string;
  model: ModelInterface;
  scheduling: ModelEnsembling;
  /** The serving interface of a composing model; throws (NOT_FOUND, UNAVAILABLE) when none serves. */
  composing(model: string, version: string | undefined): ModelInterface;
  /** Versions a promoted pipeline pins, overriding the steps' model_version. */
  pinned?: ReadonlyMap<string, string>;
}

interface Tensor {
  spec: TensorSpec;
  batched: boolean;
  /** "ensemble input" or "step 2 (model 'x') output 'y'" */
  from: string;
}

/**
 * Checks an ensemble's steps against its composing models as they serve now
 * and returns the dataflow plan; every problem found is reported at once,
 * each naming the ensemble, the step and the tensor: an unavailable model,
 * an unknown or unmapped tensor, a tensor produced twice, an output nobody
 * produces, a datatype or shape that does not fit, a cycle, a batch size
 * the composing model cannot take.
 */
export function planEnsemble(spec: EnsembleSpec): EnsemblePlan {
  const problems: string[] = [];
  const { name, model } = spec;
  const ensembleBatched = model.maxBatchSize > 0;
  const available = new Map<string, Tensor>(
    model.inputs.map((input) => [
      input.name,
      { spec: input, batched: ensembleBatched, from: "ensemble input" },
    ]),
  );
  const producers = new Map<string, PlannedStep>();
  const steps: PlannedStep[] = [];
  const composing: (ModelInterface | undefined)[] = [];

  spec.scheduling.step.forEach((step, index) => {
    const version =
      spec.pinned?.get(step.modelName) ?? (step.modelVersion > 0n ? String(step.modelVersion) : undefined);
    const where = `step ${index} (model '${step.modelName}')`;
    let target: ModelInterface | undefined;
    try {
      target = spec.composing(step.modelName, version);
    } catch (error) {
      problems.push(`${where}: not available: ${FerryError.from(error, "config").detail}`);
    }
    composing.push(target);
    const planned: PlannedStep = { index, model: step.modelName, version, inputs: [], outputs: [] };
    steps.push(planned);
    if (!target) return;
    checkBatching(where, model.maxBatchSize, target.maxBatchSize, problems);
    for (const [input, tensor] of Object.entries(step.inputMap)) {
      const declared = target.inputs.find((candidate) => candidate.name === input);
      if (!declared) {
        problems.push(
          `${where}: input_map names input '${input}', which the model lacks (${names(target.inputs)})`,
        );
        continue;
      }
      planned.inputs.push({ input, tensor, optional: declared.optional });
    }
    for (const declared of target.inputs) {
      if (!declared.optional && !(declared.name in step.inputMap))
        problems.push(`${where}: input '${declared.name}' is not mapped by input_map`);
    }
    for (const [output, tensor] of Object.entries(step.outputMap)) {
      const declared = target.outputs.find((candidate) => candidate.name === output);
      if (!declared) {
        problems.push(
          `${where}: output_map names output '${output}', which the model lacks (${names(target.outputs)})`,
        );
        continue;
      }
      const earlier = available.get(tensor);
      if (earlier) {
        problems.push(
          `tensor '${tensor}' is produced twice: by ${earlier.from} and by ${where} output '${output}'`,
        );
        continue;
      }
      available.set(tensor, {
        spec: declared,
        batched: target.maxBatchSize > 0,
        from: `${where} output '${output}'`,
      });
      producers.set(tensor, planned);
      planned.outputs.push({ output, tensor });
    }
  });

  steps.forEach((step) => {
    const target = composing[step.index];
    if (!target) return;
    const where = `step ${step.index} (model '${step.model}')`;
    for (const { input, tensor } of step.inputs) {
      const producer = available.get(tensor);
      const consumer = target.inputs.find((candidate) => candidate.name === input) as TensorSpec;
      if (!producer) {
        problems.push(
          `${where} input '${input}': tensor '${tensor}' is neither an ensemble input nor produced by any step`,
        );
        continue;
      }
      const mismatch = misfit(producer, consumer, target.maxBatchSize > 0);
      if (mismatch)
        problems.push(`${where} input '${input}': tensor '${tensor}' from ${producer.from} ${mismatch}`);
    }
  });
  for (const output of model.outputs) {
    const producer = available.get(output.name);
    if (!producer || producer.from === "ensemble input") {
      problems.push(`ensemble output '${output.name}' is not produced by any step`);
      continue;
    }
    const mismatch = misfit(producer, output, ensembleBatched);
    if (mismatch) problems.push(`ensemble output '${output.name}' from ${producer.from} ${mismatch}`);
  }
  const cycle = findCycle(steps, producers);
  if (cycle) problems.push(`steps ${cycle.map((step) => step.index).join(" → ")} form a cycle`);

  if (problems.length > 0)
    throw new FerryError("INVALID_ARGUMENT", "config", `ensemble '${name}': ${problems.join("; ")}`);
  return { name, steps, inputs: model.inputs, outputs: model.outputs, producers };
}

/** The steps needed for `outputs`, in an order where each comes after the steps it reads from. */
export function stepsFor(plan: EnsemblePlan, outputs: readonly string[]): PlannedStep[] {
  const needed = new Set<PlannedStep>();
  const visit = (tensor: string) => {
    const step = plan.producers.get(tensor);
    if (!step || needed.has(step)) return;
    for (const input of step.inputs) visit(input.tensor);
    needed.add(step);
  };
  for (const output of outputs) visit(output);
  return [...needed];
}

function checkBatching(where: string, ensembleMax: number, composingMax: number, problems: string[]): void {
  if (ensembleMax === 0) return;
  if (composingMax === 0)
    problems.push(
      `${where}: the model does not batch (max_batch_size 0) but the ensemble's max_batch_size is ${ensembleMax}`,
    );
  else if (composingMax < ensembleMax)
    problems.push(
      `${where}: the ensemble's max_batch_size ${ensembleMax} is larger than the model's ${composingMax}`,
    );
}

/** Why a produced tensor cannot feed a consumer, comparing full shapes (batch dimension included). */
function misfit(producer: Tensor, consumer: TensorSpec, consumerBatched: boolean): string | undefined {
  if (producer.spec.datatype !== consumer.datatype)
    return `is ${producer.spec.datatype}, but ${consumer.datatype} is expected`;
  const made = producer.batched ? [-1, ...producer.spec.dims] : producer.spec.dims;
  const wanted = consumerBatched ? [-1, ...consumer.dims] : consumer.dims;
  const fits =
    made.length === wanted.length &&
    made.every((dim, at) => dim === -1 || wanted[at] === -1 || wanted[at] === dim);
  return fits ? undefined : `has shape ${formatShape(made)}, but ${formatShape(wanted)} is expected`;
}

/** A cycle among steps (a step reading, through other steps, what it produces), or undefined. */
function findCycle(steps: PlannedStep[], producers: Map<string, PlannedStep>): PlannedStep[] | undefined {
  const state = new Map<PlannedStep, "visiting" | "done">();
  const path: PlannedStep[] = [];
  const visit = (step: PlannedStep): PlannedStep[] | undefined => {
    if (state.get(step) === "done") return undefined;
    if (state.get(step) === "visiting") return [...path.slice(path.indexOf(step)), step];
    state.set(step, "visiting");
    path.push(step);
    for (const input of step.inputs) {
      const producer = producers.get(input.tensor);
      const cycle = producer && visit(producer);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(step, "done");
    return undefined;
  };
  for (const step of steps) {
    const cycle = visit(step);
    if (cycle) return cycle;
  }
  return undefined;
}

function names(specs: readonly TensorSpec[]): string {
  return specs.map((spec) => spec.name).join(", ") || "none";
}
