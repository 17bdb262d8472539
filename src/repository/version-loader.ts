import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Backend, ModelInstance } from "../backends/backend.ts";
import { type DeviceInventory, type GpuFallback, placeInstances } from "../backends/devices.ts";
import type { BackendRegistry } from "../backends/registry.ts";
import { autoComplete } from "../config/autocomplete.ts";
import { fillDefaults } from "../config/defaults.ts";
import { checkAgainstModelFile } from "../config/model-file-check.ts";
import { readConfigText } from "../config/read-config.ts";
import { inputSpecs, outputSpecs } from "../config/tensor-spec.ts";
import { validateConfig } from "../config/validate.ts";
import { splitAlongBatch } from "../core/batch-split.ts";
import { FerryError } from "../core/errors.ts";
import { combineObservers, type InferenceObserver } from "../core/observer.ts";
import type { Tensor } from "../core/tensor.ts";
import {
  DataType as ConfigType,
  ModelSequenceBatching_Control_Kind as ControlKind,
  type ModelConfig,
  ModelConfigSchema,
} from "../gen/model_config_pb.ts";
import { HealthCheckError, verdict } from "../health/checks.ts";
import { warmupSamples } from "../health/samples.ts";
import { readinessChecks } from "../health/version-checks.ts";
import { warmUp } from "../health/warmup.ts";
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
  /** GPUs and execution providers of this host. */
  devices: DeviceInventory;
  gpuFallback: GpuFallback;
  observerFor(model: string, version: string): InferenceObserver;
  /** Load and warm-up times of a version that became ready, for metrics. */
  onLoaded?(model: string, version: string, seconds: { load: number; warmup: number }): void;
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
  fillDefaults(completed, name, backend, options.devices.cuda ? options.devices.gpus : []);
  validateConfig(completed, name, source);
  checkAgainstModelFile(completed, signature, source);
  return { config: completed, backend, versions: load, missing };
}

/**
 * Creates every instance of one version, warms each up, builds its
 * scheduler, and runs the readiness checks; a version that fails any of
 * them is closed again and the error carries the checks.
 */
export async function loadVersion(
  name: string,
  version: number,
  plan: ModelPlan,
  options: LoaderOptions,
): Promise<ModelVersion> {
  const { config, backend } = plan;
  const started = performance.now();
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
  const { placements, notes } = placeInstances(config, options.devices, options.gpuFallback);
  const instances: ModelInstance[] = [];
  try {
    for (const { instanceName, device } of placements) {
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
    const batched = config.maxBatchSize > 0;
    const samples = await warmupSamples(config, (path) => options.source.readModelFile(name, path));
    const boundMs = latencyBound(config);
    const warmup = await warmUp(instances, samples, outputSpecs(config), batched, boundMs);
    if (warmup.status === "FAIL") throw new HealthCheckError([warmup]);
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
    const loaded = new ModelVersion({
      config,
      version: versionText,
      model,
      instances,
      scheduler,
      observer,
      statistics,
      labels,
      devices: placements.map((placement) => placement.device),
      placementNotes: notes,
      latencyBoundMs: boundMs,
      sequenceId: readinessSequenceId(config),
      syntheticInputs: config.modelWarmup.length > 0 ? firstRow(samples[0]?.inputs ?? [], config) : undefined,
    });
    loaded.health = verdict(await readinessChecks(loaded, warmup));
    if (!loaded.health.ready) throw new HealthCheckError(loaded.health.checks);
    options.onLoaded?.(name, versionText, {
      load: (performance.now() - started) / 1000,
      warmup: warmup.durationMs / 1000,
    });
    return loaded;
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.close()));
    throw error;
  }
}

/** The client inputs of a warm-up sample, one batch row of each. */
function firstRow(inputs: Tensor[], config: ModelConfig): Tensor[] {
  const clientInputs = new Set(config.input.map((input) => input.name));
  return inputs
    .filter((input) => clientInputs.has(input.name))
    .map((input) =>
      config.maxBatchSize > 0 && (input.shape[0] ?? 1) > 1
        ? (splitAlongBatch(input, [1, (input.shape[0] ?? 1) - 1])[0] as Tensor)
        : input,
    );
}

const DEFAULT_LATENCY_BOUND_MS = 5000;

/** `parameters { key: "readiness_max_latency_ms" }`: the synthetic request's latency bound. */
function latencyBound(config: ModelConfig): number {
  const text = config.parameters.readiness_max_latency_ms?.stringValue;
  if (text === undefined) return DEFAULT_LATENCY_BOUND_MS;
  const value = Number(text);
  if (!(value > 0)) {
    throw new FerryError(
      "INVALID_ARGUMENT",
      "config",
      `parameters['readiness_max_latency_ms'] must be a positive number, got '${text}'`,
    );
  }
  return value;
}

/** A sequence model's synthetic request is a one-request sequence with an id no client is likely to use. */
function readinessSequenceId(config: ModelConfig): bigint | string | undefined {
  if (config.schedulingChoice.case !== "sequenceBatching") return undefined;
  const corrid = config.schedulingChoice.value.controlInput
    .flatMap((input) => input.control)
    .find((control) => control.kind === ControlKind.CONTROL_SEQUENCE_CORRID);
  return corrid?.dataType === ConfigType.TYPE_STRING ? "ferry-readiness-check" : 2n ** 63n - 1n;
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
