import { join } from "node:path";
import { create, toJson } from "@bufbuild/protobuf";
import type { Backend, Device, ModelInstance } from "../backends/backend.ts";
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
import { ModelVersion } from "../serving/model-version.ts";
import { checkDigest, sha256OfJson } from "./digest.ts";
import { readInitialStates } from "./initial-state.ts";
import type { ServingEntry, Validation } from "./manifest.ts";
import type { Route } from "./routing.ts";
import type { ModelListing, ModelSource, PinnedFiles } from "./source.ts";
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
  /** A version (or, with version "", a model) that failed to load, for metrics. */
  onLoadFailed?(model: string, version: string, reason: string): void;
}

export interface ModelPlan {
  config: ModelConfig;
  backend: Backend;
  /** Versions the manifest (or else the version policy) selects, ascending. */
  versions: number[];
  /** Versions it names that have no directory. */
  missing: number[];
  /** Who named the versions, for messages: "version_policy" or "promotion manifest revision 4". */
  decidedBy: string;
  /** How unversioned requests split once the plan serves. */
  routes: Route[];
  /** Per version, what a loaded copy must match to be kept rather than reloaded. */
  identities: Map<number, string>;
  /** Per version, the files its manifest entry pins (manifest only). */
  pins: Map<number, PinnedFiles>;
  /** Per version, what the manifest requires of it before it takes traffic. */
  validation: Map<number, Validation>;
}

/**
 * Reads, completes and validates a model's config and picks its versions:
 * the promotion manifest's serving versions when there is one (config.pbtxt
 * checked against its pinned sha256), else the config's version_policy.
 */
export async function planModel(
  listing: ModelListing,
  options: LoaderOptions,
  override?: ModelConfig,
): Promise<ModelPlan> {
  const { name, manifest } = listing;
  const source = listing.configSource;
  if (manifest && !override) checkPinnedConfig(listing, manifest.serving[0]?.files ?? {});
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
  const { load, missing } = manifest
    ? manifestVersions(manifest.serving, listing.versions)
    : selectVersions(written.versionPolicy, listing.versions);
  const pins = new Map(manifest?.serving.map((entry) => [Number(entry.version), entry.files]));
  const probeVersion = load.at(-1) ?? listing.versions.at(-1);
  const probe = await options.source.materialize(name, String(probeVersion), pins.get(Number(probeVersion)));
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
  const validation = new Map(
    manifest?.serving.flatMap((entry) =>
      entry.validation ? [[Number(entry.version), entry.validation]] : [],
    ),
  );
  const configIdentity = override ? toJson(ModelConfigSchema, override) : listing.configText;
  const identities = new Map(
    load.map((version) => [
      version,
      sha256OfJson([
        configIdentity,
        listing.versionStamps.get(version),
        pins.get(version),
        validation.get(version),
      ]),
    ]),
  );
  const newest = load.at(-1);
  return {
    config: completed,
    backend,
    versions: load,
    missing,
    decidedBy: manifest ? `promotion manifest revision ${manifest.revision}` : "version_policy",
    routes: manifest
      ? manifest.serving.map((entry) => ({ version: Number(entry.version), weight: entry.weight }))
      : newest === undefined
        ? []
        : [{ version: newest, weight: 100 }],
    identities,
    pins,
    validation,
  };
}

function manifestVersions(
  serving: ServingEntry[],
  available: number[],
): { load: number[]; missing: number[] } {
  const wanted = serving.map((entry) => Number(entry.version)).sort((a, b) => a - b);
  return {
    load: wanted.filter((version) => available.includes(version)),
    missing: wanted.filter((version) => !available.includes(version)),
  };
}

/** Under a manifest, config.pbtxt must be the pinned one (or absent when none is pinned). */
function checkPinnedConfig(listing: ModelListing, pinned: PinnedFiles): void {
  const expected = pinned[CONFIG_FILE];
  const where = listing.configSource;
  if (!expected && listing.configDigest) {
    throw new FerryError(
      "FAILED_PRECONDITION",
      "repository",
      `${where}: the promotion manifest does not pin config.pbtxt; run ferry promote again`,
    );
  }
  if (!expected) return;
  if (!listing.configDigest) {
    throw new FerryError("NOT_FOUND", "repository", `${where}: pinned by the promotion manifest but missing`);
  }
  checkDigest(where, listing.configDigest, expected);
}

const CONFIG_FILE = "config.pbtxt";

/**
 * Reads files beside config.pbtxt; under a manifest each must be pinned
 * and match, so no unverified byte reaches a model.
 */
function modelFileReader(
  name: string,
  source: ModelSource,
  pinned: PinnedFiles | undefined,
): (path: string) => Promise<Uint8Array | undefined> {
  return async (path) => {
    if (!pinned) return source.readModelFile(name, path);
    const digest = pinned[path];
    if (!digest) {
      const present = await source.readModelFile(name, path);
      if (present === undefined) return undefined;
      throw new FerryError(
        "FAILED_PRECONDITION",
        "repository",
        `model '${name}' file '${path}' is not pinned by the promotion manifest; run ferry promote again`,
      );
    }
    return source.readModelFile(name, path, digest);
  };
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
  const pinned = plan.pins.get(version);
  const validation = plan.validation.get(version);
  const readFile = modelFileReader(name, options.source, pinned);
  const dir = await options.source.materialize(name, versionText, pinned);
  if (!dir.files.includes(config.defaultModelFilename)) {
    throw new FerryError(
      "NOT_FOUND",
      "repository",
      `model '${name}' version ${version} has no ${config.defaultModelFilename} (found: ${dir.files.join(", ") || "nothing"})`,
    );
  }
  const modelFile = join(dir.path, config.defaultModelFilename);
  const { placements, notes } = placeInstances(config, options.devices, options.gpuFallback);
  if (validation?.device === "gpu") requireGpu(placements.map((placement) => placement.device));
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
    const samples = await warmupSamples(config, readFile);
    const boundMs = validation?.max_latency_ms ?? latencyBound(config);
    const warmup = await warmUp(instances, samples, outputSpecs(config), batched, boundMs);
    if (warmup.status === "FAIL") throw new HealthCheckError([warmup]);
    const statistics = new VersionStatistics(name, versionText);
    const observer = combineObservers(options.observerFor(name, versionText), statistics);
    const initialStates = await readInitialStates(name, config, readFile);
    const scheduler = createScheduler({
      model: name,
      version: versionText,
      config,
      instances,
      observer,
      initialStates,
    });
    const labels = await readLabels(name, config, readFile);
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

/** Manifest validation `device: "gpu"`: every instance must really run on a GPU. */
function requireGpu(devices: Device[]): void {
  const onCpu = devices.filter((device) => !device.startsWith("gpu")).length;
  if (onCpu > 0) {
    throw new FerryError(
      "FAILED_PRECONDITION",
      "health",
      `validation: the promotion manifest requires device gpu, but ${onCpu} of ${devices.length} instance(s) would run on cpu`,
    );
  }
}

async function readLabels(
  name: string,
  config: ModelConfig,
  readFile: (path: string) => Promise<Uint8Array | undefined>,
): Promise<Map<string, string[]>> {
  const labels = new Map<string, string[]>();
  for (const output of config.output) {
    if (!output.labelFilename) continue;
    const bytes = await readFile(output.labelFilename);
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
