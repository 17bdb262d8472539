import { FerryError } from "../core/errors.ts";
import {
  ModelInstanceGroup_Kind as Kind,
  type ModelConfig,
  type ModelDynamicBatching,
  type ModelInput,
  type ModelOutput,
} from "../gen/model_config_pb.ts";
import { configTypeName, wireDataType } from "./datatypes.ts";
import { checkCalls } from "./dependencies.ts";
import { checkLatencyObjective } from "./latency-objective.ts";
import { checkEnsemble, isEnsemble } from "./validate-ensemble.ts";
import { checkSequenceBatching } from "./validate-sequence.ts";

/**
 * Checks a completed config; throws a config error whose message starts
 * with the field path ("input[1].dims[0]: ...") after `source`.
 */
export function validateConfig(config: ModelConfig, modelName: string, source: string): void {
  const problems: string[] = [];
  const report = (path: string, message: string) => problems.push(`${path}: ${message}`);

  if (config.name !== modelName)
    report("name", `'${config.name}' does not match the model directory '${modelName}'`);
  if (config.maxBatchSize < 0) report("max_batch_size", `must be >= 0, got ${config.maxBatchSize}`);
  checkTensors("input", config.input, report);
  checkTensors("output", config.output, report);
  if (config.output.length === 0) report("output", "a model needs at least one output");
  checkVersionPolicy(config, report);
  checkCalls(config, report);
  if (isEnsemble(config)) checkEnsemble(config, report);
  else checkInstanceGroups(config, report);
  const scheduling = config.schedulingChoice;
  if (scheduling.case === "dynamicBatching")
    checkDynamicBatching(scheduling.value, config.maxBatchSize, report);
  if (scheduling.case === "sequenceBatching") checkSequenceBatching(config, scheduling.value, report);
  checkLatencyObjective(config, report);

  if (problems.length > 0) {
    throw new FerryError("INVALID_ARGUMENT", "config", `${source}: ${problems.join("; ")}`);
  }
}

type Report = (path: string, message: string) => void;

function checkTensors(kind: "input" | "output", tensors: (ModelInput | ModelOutput)[], report: Report): void {
  const seen = new Set<string>();
  tensors.forEach((tensor, index) => {
    const path = `${kind}[${index}]`;
    if (!tensor.name) report(`${path}.name`, "must not be empty");
    else if (seen.has(tensor.name)) report(`${path}.name`, `duplicate ${kind} name '${tensor.name}'`);
    seen.add(tensor.name);
    if (wireDataType(tensor.dataType) === undefined) {
      report(`${path}.data_type`, `${configTypeName(tensor.dataType)} is not a tensor datatype`);
    }
    if (tensor.dims.length === 0) report(`${path}.dims`, "must list at least one dimension");
    tensor.dims.forEach((dim, at) => {
      if (dim !== -1n && dim < 1n) report(`${path}.dims[${at}]`, `must be -1 or positive, got ${dim}`);
    });
    if (tensor.reshape) checkReshape(path, tensor.dims, tensor.reshape.shape, report);
  });
}

function checkReshape(path: string, dims: bigint[], shape: bigint[], report: Report): void {
  shape.forEach((dim, at) => {
    if (dim !== -1n && dim < 1n) report(`${path}.reshape.shape[${at}]`, `must be -1 or positive, got ${dim}`);
  });
  const fixed = (values: bigint[]) => values.every((dim) => dim > 0n);
  const count = (values: bigint[]) => values.reduce((product, dim) => product * dim, 1n);
  if (fixed(dims) && fixed(shape) && count(dims) !== count(shape)) {
    report(
      `${path}.reshape`,
      `shape [${shape.join(",")}] holds ${count(shape)} elements but dims hold ${count(dims)}`,
    );
  }
}

function checkVersionPolicy(config: ModelConfig, report: Report): void {
  const policy = config.versionPolicy?.policyChoice;
  if (policy?.case === "specific") {
    if (policy.value.versions.length === 0)
      report("version_policy.specific.versions", "must list at least one version");
    policy.value.versions.forEach((version, at) => {
      if (version < 1n) report(`version_policy.specific.versions[${at}]`, `must be positive, got ${version}`);
    });
  }
}

function checkInstanceGroups(config: ModelConfig, report: Report): void {
  config.instanceGroup.forEach((group, index) => {
    const path = `instance_group[${index}]`;
    if (group.count < 1) report(`${path}.count`, `must be >= 1, got ${group.count}`);
    if (group.kind === Kind.MODEL) report(`${path}.kind`, "KIND_MODEL is not supported by this backend");
    if (group.kind === Kind.CPU && group.gpus.length > 0)
      report(`${path}.gpus`, "must be empty for KIND_CPU");
    group.gpus.forEach((gpu, at) => {
      if (gpu < 0) report(`${path}.gpus[${at}]`, `must be >= 0, got ${gpu}`);
    });
  });
}

function checkDynamicBatching(batching: ModelDynamicBatching, maxBatchSize: number, report: Report): void {
  if (maxBatchSize < 1) report("dynamic_batching", "needs max_batch_size >= 1");
  batching.preferredBatchSize.forEach((size, at) => {
    if (size < 1 || (maxBatchSize >= 1 && size > maxBatchSize)) {
      report(`dynamic_batching.preferred_batch_size[${at}]`, `must be in [1, ${maxBatchSize}], got ${size}`);
    }
  });
  const levels = batching.priorityLevels;
  if (levels > 0n) {
    const level = batching.defaultPriorityLevel;
    if (level < 1n || level > levels) {
      report("dynamic_batching.default_priority_level", `must be in [1, ${levels}], got ${level}`);
    }
  }
  for (const key of Object.keys(batching.priorityQueuePolicy)) {
    const level = BigInt(key);
    if (level < 1n || level > levels) {
      report(`dynamic_batching.priority_queue_policy[${key}]`, `level must be in [1, ${levels}]`);
    }
  }
}
