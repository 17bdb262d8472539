import { create } from "@bufbuild/protobuf";
import {
  ModelInstanceGroup_Kind as Kind,
  type ModelConfig,
  ModelInstanceGroupSchema,
  ModelOptimizationPolicySchema,
  ModelVersionPolicy_LatestSchema,
  ModelVersionPolicySchema,
  ModelOptimizationPolicy_PinnedMemoryBufferSchema as PinnedMemorySchema,
} from "../gen/model_config_pb.ts";

export interface BackendDefaults {
  name: string;
  platform: string;
  defaultModelFilename: string;
  defaultCpuInstanceCount: number;
}

/**
 * Fills the defaults Triton shows in a completed config, whether or not
 * auto-complete is on: name, backend/platform, version policy, instance
 * groups (KIND_AUTO resolved against the GPUs present, counts, names),
 * default model filename and pinned-memory flags. Mutates `config`.
 */
export function fillDefaults(
  config: ModelConfig,
  modelName: string,
  backend: BackendDefaults,
  gpus: number[],
): void {
  config.name ||= modelName;
  config.backend ||= backend.name;
  config.platform ||= backend.platform;
  config.defaultModelFilename ||= backend.defaultModelFilename;
  fillVersionPolicy(config);

  if (config.instanceGroup.length === 0) config.instanceGroup.push(create(ModelInstanceGroupSchema));
  config.instanceGroup.forEach((group, index) => {
    if (group.kind === Kind.AUTO) group.kind = gpus.length > 0 ? Kind.GPU : Kind.CPU;
    if (group.kind === Kind.GPU && group.gpus.length === 0) group.gpus = [...gpus];
    if (group.count === 0) group.count = group.kind === Kind.CPU ? backend.defaultCpuInstanceCount : 1;
    group.name ||= config.instanceGroup.length === 1 ? config.name : `${config.name}_${index}`;
  });

  config.optimization ??= create(ModelOptimizationPolicySchema);
  config.optimization.inputPinnedMemory ??= create(PinnedMemorySchema, { enable: true });
  config.optimization.outputPinnedMemory ??= create(PinnedMemorySchema, { enable: true });
}

/** An ensemble's defaults: it has no backend, model file or instances of its own. */
export function fillEnsembleDefaults(config: ModelConfig, modelName: string): void {
  config.name ||= modelName;
  config.platform ||= "ensemble";
  fillVersionPolicy(config);
}

/** No version_policy means `latest { num_versions: 1 }`, as Triton completes it. */
function fillVersionPolicy(config: ModelConfig): void {
  config.versionPolicy ??= create(ModelVersionPolicySchema);
  if (config.versionPolicy.policyChoice.case === undefined) {
    config.versionPolicy.policyChoice = { case: "latest", value: create(ModelVersionPolicy_LatestSchema) };
  }
  const latest = config.versionPolicy.policyChoice;
  if (latest.case === "latest" && latest.value.numVersions === 0) latest.value.numVersions = 1;
}
