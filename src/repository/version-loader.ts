import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Backend, Device, ModelInstance } from "../backends/backend.ts";
import type { BackendRegistry } from "../backends/registry.ts";
import { autoComplete } from "../config/autocomplete.ts";
import { fillDefaults } from "../config/defaults.ts";
import { checkAgainstModelFile } from "../config/model-file-check.ts";
import { readConfigText } from "../config/read-config.ts";
import { inputSpecs, outputSpecs } from "../config/tensor-spec.ts";
import { validateConfig } from "../config/validate.ts";
import { FerryError } from "../core/errors.ts";
import { combineObservers, type InferenceObserver } from "../core/observer.ts";
import {
  ModelInstanceGroup_Kind as Kind,
  type ModelConfig,
  ModelConfigSchema,
} from "../gen/model_config_pb.ts";
import { VersionStatistics } from "../metrics/statistics.ts";
import { createScheduler } from "../scheduler/create-scheduler.ts";
import { readInitialStates } from "./initial-state.ts";
import { ModelVersion } from "./model-version.ts";
import type { ModelListing, ModelSource } from "./source.ts";
import { selectVersions } from "./version-policy.ts";

export interface LoaderOptions {
  source: ModelSource;
  backends: BackendRegistry;
  /** False with --disable-auto-complete-config / --strict-model-config=true. */
  autoComplete: boolean;
  defaultMaxBatchSize: number;
  /** GPU ids present on this host. */
  gpus: number[];
  observerFor(model: string, version: string): InferenceObserver;
}

export interface ModelPlan {
  config: ModelConfig;
  backend: Backend;
  /** Versions the policy selects, ascending. */
  versions: number[];
  /** Versions the policy names that have no directory. */
  missing: number[];
}

/** Reads, completes and validates a model's config and picks its versions. */
export async function planModel(
  listing: ModelListing,
  options: LoaderOptions,
  override?: ModelConfig,
): Promise<ModelPlan> {
  const { name } = listing;
  const source = listing.configSource;
  const written =
    override ??
    (listing.configText === undefined
      ? create(ModelConfigSchema)
      : readConfigText(listing.configText, source));
  if (listing.versions.length === 0) {
    throw new FerryError(
      "NOT_FOUND",
      "repository",
      `model '${name}' has no version directories (numeric, e.g. ${name}/1)`,
    );
  }
  const { load, missing } = selectVersions(written.versionPolicy, listing.versions);
  const probeVersion = load.at(-1) ?? listing.versions.at(-1);
  const probe = await options.source.materialize(name, String(probeVersion));
  const backend = options.backends.select(written, probe.files);
  if (!backend) {
    const wanted = written.backend || written.platform;
    throw new FerryError(
      "INVALID_ARGUMENT",
      "config",
      wanted
        ? `${source}: backend '${wanted}' is not available (ferry has: ${options.backends.names().join(", ")})`
        : `${source}: cannot tell which backend serves '${name}': set 'backend' or 'platform', or add model.onnx`,
    );
  }
  const modelFile = join(probe.path, written.defaultModelFilename || backend.defaultModelFilename);
  const signature = await backend.inspect(modelFile);
  const completed = options.autoComplete
    ? autoComplete(written, signature, { defaultMaxBatchSize: options.defaultMaxBatchSize })
    : written;
  fillDefaults(completed, name, backend, options.gpus);
  validateConfig(completed, name, source);
  checkAgainstModelFile(completed, signature, source);
  return { config: completed, backend, versions: load, missing };
}

/** Creates every instance of one version, its scheduler and label tables. */
export async function loadVersion(
  name: string,
  version: number,
  plan: ModelPlan,
  options: LoaderOptions,
): Promise<ModelVersion> {
  const { config, backend } = plan;
  const versionText = String(version);
  const dir = await options.source.materialize(name, versionText);
  if (!dir.files.includes(config.defaultModelFilename)) {
    throw new FerryError(
      "NOT_FOUND",
      "repository",
      `model '${name}' version ${version} has no ${config.defaultModelFilename} (found: ${dir.files.join(", ") || "nothing"})`,
    );
  }
  const modelFile = join(dir.path, config.defaultModelFilename);
  const instances: ModelInstance[] = [];
  try {
    for (const { instanceName, device } of instancePlacements(config)) {
      instances.push(
        await backend.load({
          model: name,
          version: versionText,
          config,
          versionDir: dir.path,
          modelFile,
          instanceName,
          device,
        }),
      );
    }
    const statistics = new VersionStatistics(name, versionText);
    const observer = combineObservers(options.observerFor(name, versionText), statistics);
    const initialStates = await readInitialStates(name, config, options.source);
    const scheduler = createScheduler({
      model: name,
      version: versionText,
      config,
      instances,
      observer,
      initialStates,
    });
    const labels = await readLabels(name, config, options.source);
    const model = {
      name,
      maxBatchSize: config.maxBatchSize,
      inputs: inputSpecs(config),
      outputs: outputSpecs(config),
    };
    return new ModelVersion({
      config,
      version: versionText,
      model,
      instances,
      scheduler,
      observer,
      statistics,
      labels,
    });
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.close()));
    throw error;
  }
}

/** One entry per instance: `count` per listed GPU for KIND_GPU, `count` in all for KIND_CPU. */
export function instancePlacements(config: ModelConfig): { instanceName: string; device: Device }[] {
  const placements: { instanceName: string; device: Device }[] = [];
  config.instanceGroup.forEach((group, index) => {
    if (group.kind === Kind.GPU) {
      if (group.gpus.length === 0) {
        throw new FerryError(
          "UNAVAILABLE",
          "backend",
          `instance_group[${index}] asks for KIND_GPU, but no GPU is available`,
        );
      }
      for (const gpu of group.gpus) {
        for (let i = 0; i < group.count; i++)
          placements.push({ instanceName: `${group.name}_${gpu}_${i}`, device: `gpu:${gpu}` });
      }
    } else {
      for (let i = 0; i < group.count; i++)
        placements.push({ instanceName: `${group.name}_${i}`, device: "cpu" });
    }
  });
  return placements;
}

async function readLabels(
  name: string,
  config: ModelConfig,
  source: ModelSource,
): Promise<Map<string, string[]>> {
  const labels = new Map<string, string[]>();
  for (const output of config.output) {
    if (!output.labelFilename) continue;
    const bytes = await source.readModelFile(name, output.labelFilename);
    if (!bytes) {
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `model '${name}' output '${output.name}': label file '${output.labelFilename}' not found`,
      );
    }
    labels.set(output.name, new TextDecoder().decode(bytes).split(/\r?\n/));
  }
  return labels;
}
