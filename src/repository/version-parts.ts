import { dependenciesOf, type ModelDependency } from "../config/dependencies.ts";
import type { ModelInterface } from "../config/model-interface.ts";
import { inputSpecs, outputSpecs } from "../config/tensor-spec.ts";
import { FerryError } from "../core/errors.ts";
import { combineObservers, type InferenceObserver } from "../core/observer.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";
import { type GoldenRequest, readGolden } from "../health/golden.ts";
import { VersionStatistics } from "../metrics/statistics.ts";
import type { PipelinePin } from "./manifest.ts";
import type { LoaderOptions, ModelPlan } from "./model-plan.ts";
import type { ModelSource, PinnedFiles } from "./source.ts";

/** What every serving version has, whatever runs it (instances, or other models for an ensemble). */
export interface VersionParts {
  model: ModelInterface;
  /** The models it runs on (ensemble steps, declared calls). */
  composing: ModelDependency[];
  statistics: VersionStatistics;
  observer: InferenceObserver;
  /** Label lines per output name (classification). */
  labels: Map<string, string[]>;
  /** The readiness latency bound: the manifest's validation, else the config's parameter. */
  latencyBoundMs: number;
  /** Reads files beside config.pbtxt, checked against the manifest's pins. */
  readFile: (path: string) => Promise<Uint8Array | undefined>;
  /** golden.json's requests (none without the file). */
  golden: GoldenRequest[];
}

export async function versionParts(
  name: string,
  version: number,
  plan: ModelPlan,
  options: LoaderOptions,
): Promise<VersionParts> {
  const { config } = plan;
  const versionText = String(version);
  const readFile = modelFileReader(name, options.source, plan.pins.get(version));
  const statistics = new VersionStatistics(name, versionText);
  return {
    model: {
      name,
      maxBatchSize: config.maxBatchSize,
      inputs: inputSpecs(config),
      outputs: outputSpecs(config),
    },
    composing: pinnedDependencies(dependenciesOf(config), plan.pipelines.get(version)),
    statistics,
    observer: combineObservers(options.observerFor(name, versionText), statistics),
    labels: await readLabels(name, config, readFile),
    latencyBoundMs: plan.validation.get(version)?.max_latency_ms ?? latencyBound(config),
    readFile,
    golden: await readGolden(readFile, name),
  };
}

/**
 * Reads files beside config.pbtxt; under a manifest each must be pinned
 * and match, so no unverified byte reaches a model.
 */
export function modelFileReader(
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

const DEFAULT_LATENCY_BOUND_MS = 5000;

/** `parameters { key: "readiness_max_latency_ms" }`: the synthetic request's latency bound. */
export function latencyBound(config: ModelConfig): number {
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

export async function readLabels(
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

/** A pipeline version runs on the versions its manifest entry pins, whatever the config says. */
function pinnedDependencies(
  dependencies: ModelDependency[],
  pins: PipelinePin[] | undefined,
): ModelDependency[] {
  if (!pins) return dependencies;
  return dependencies.map((dependency) => {
    const pin = pins.find((candidate) => candidate.model === dependency.model);
    return pin ? { model: dependency.model, version: pin.version } : dependency;
  });
}
