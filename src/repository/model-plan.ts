import { join } from "node:path";
import { create, toJson } from "@bufbuild/protobuf";
import type { Backend } from "../backends/backend.ts";
import type { DeviceInventory, GpuFallback } from "../backends/devices.ts";
import type { BackendRegistry } from "../backends/registry.ts";
import { autoComplete } from "../config/autocomplete.ts";
import { fillDefaults, fillEnsembleDefaults } from "../config/defaults.ts";
import { checkAgainstModelFile } from "../config/model-file-check.ts";
import { readConfigText } from "../config/read-config.ts";
import { validateConfig } from "../config/validate.ts";
import { isEnsemble } from "../config/validate-ensemble.ts";
import { FerryError } from "../core/errors.ts";
import type { InferenceObserver } from "../core/observer.ts";
import { type ModelConfig, ModelConfigSchema } from "../gen/model_config_pb.ts";
import type { Runtime, RuntimePolicy } from "../health/runtime.ts";
import type { Router } from "../serving/router.ts";
import { checkDigest, sha256OfJson } from "./digest.ts";
import type { PipelinePin, ServingEntry, Validation } from "./manifest.ts";
import type { Route } from "./routing.ts";
import type { LocalVersionDir, ModelListing, ModelSource, PinnedFiles } from "./source.ts";
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
  /** How an ensemble reaches its composing models (the model manager sets it). */
  router?: Router;
  /** --runtime-mismatch: what a runtime other than the promoted one does to a version. */
  runtimeMismatch?: RuntimePolicy;
  /** A version that serves on another runtime than it was promoted with (policy warn), for metrics. */
  onRuntimeMismatch?(model: string, version: string): void;
  /** --model-load-retry-count: how often a backend's failed instance load is tried again. */
  loadRetryCount?: number;
  /** Logs a retry. */
  onLoadRetry?(message: string): void;
}

export interface ModelPlan {
  config: ModelConfig;
  /** Undefined for an ensemble, which runs on other models rather than a backend. */
  backend: Backend | undefined;
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
  /** Per version, the runtime it was promoted with. */
  runtimes: Map<number, Runtime>;
  /** Per version of a pipeline entry, the exact version and files of each model it runs on. */
  pipelines: Map<number, PipelinePin[]>;
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
  // Errors name what was read: the load request's override, not the file it replaces.
  const source = override ? `the config override in the load request for '${name}'` : listing.configSource;
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
  const { config: completed, backend } = isEnsemble(written)
    ? completeEnsemble(written, name, source)
    : await completeForBackend(
        written,
        { listing, source },
        options,
        load.length > 0 ? load : listing.versions,
        pins,
      );
  const validation = new Map(
    manifest?.serving.flatMap((entry) =>
      entry.validation ? [[Number(entry.version), entry.validation]] : [],
    ),
  );
  const runtimes = new Map(
    manifest?.serving.flatMap((entry) => (entry.runtime ? [[Number(entry.version), entry.runtime]] : [])),
  );
  const pipelines = new Map(
    manifest?.serving.flatMap((entry) => (entry.pipeline ? [[Number(entry.version), entry.pipeline]] : [])),
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
        runtimes.get(version),
        pipelines.get(version),
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
    runtimes,
    pipelines,
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

/** An ensemble's config: Triton does not auto-complete ensembles; its steps are checked at load. */
function completeEnsemble(
  written: ModelConfig,
  name: string,
  source: string,
): { config: ModelConfig; backend: undefined } {
  fillEnsembleDefaults(written, name);
  validateConfig(written, name, source);
  return { config: written, backend: undefined };
}

/**
 * The newest version whose files are right: a version refused for its own
 * files (a stray file, a checksum) fails alone when it loads rather than
 * failing the whole model here. Transient trouble (S3) is not skipped past.
 */
async function materializeNewest(
  source: ModelSource,
  name: string,
  versions: number[],
  pins: Map<number, PinnedFiles>,
): Promise<LocalVersionDir> {
  let first: unknown;
  for (const version of [...versions].reverse()) {
    try {
      return await source.materialize(name, String(version), pins.get(version));
    } catch (error) {
      const code = error instanceof FerryError ? error.code : "";
      if (code === "UNAVAILABLE" || code === "DEADLINE_EXCEEDED" || code === "CANCELLED") throw error;
      first ??= error;
    }
  }
  throw first;
}

/**
 * Picks the backend (from the newest selected version's files that can be had), completes
 * the config from the model file's signature, and checks the two agree.
 */
async function completeForBackend(
  written: ModelConfig,
  { listing, source }: { listing: ModelListing; source: string },
  options: LoaderOptions,
  versions: number[],
  pins: Map<number, PinnedFiles>,
): Promise<{ config: ModelConfig; backend: Backend }> {
  const { name } = listing;
  const probe = await materializeNewest(options.source, name, versions, pins);
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
  written.defaultModelFilename ||= backend.modelFilenameIn?.(probe.files) ?? backend.defaultModelFilename;
  const modelFile = join(probe.path, written.defaultModelFilename);
  const signature = await backend.inspect(modelFile);
  let completed = written;
  if (options.autoComplete && backend.autoCompleteConfig)
    completed = await backend.autoCompleteConfig(completed, modelFile);
  if (options.autoComplete && signature)
    completed = autoComplete(completed, signature, { defaultMaxBatchSize: options.defaultMaxBatchSize });
  fillDefaults(completed, name, backend, options.devices.cuda ? options.devices.gpus : []);
  validateConfig(completed, name, source);
  if (signature) checkAgainstModelFile(completed, signature, source);
  return { config: completed, backend };
}
