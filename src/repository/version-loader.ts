import { join } from "node:path";
import type { ModelInstance } from "../backends/backend.ts";
import { placeInstances } from "../backends/devices.ts";
import { outputSpecs } from "../config/tensor-spec.ts";
import { splitAlongBatch } from "../core/batch-split.ts";
import { FerryError } from "../core/errors.ts";
import type { Tensor } from "../core/tensor.ts";
import {
  DataType as ConfigType,
  ModelSequenceBatching_Control_Kind as ControlKind,
  type ModelConfig,
} from "../gen/model_config_pb.ts";
import { HealthCheckError, verdict } from "../health/checks.ts";
import { currentRuntime, runtimeCheck } from "../health/runtime.ts";
import { warmupSamples } from "../health/samples.ts";
import { readinessChecks } from "../health/version-checks.ts";
import { warmUp } from "../health/warmup.ts";
import { createScheduler } from "../scheduler/create-scheduler.ts";
import { ModelVersion } from "../serving/model-version.ts";
import { checkDevicePins } from "./device-pins.ts";
import { loadEnsembleVersion } from "./ensemble-loader.ts";
import { readInitialStates } from "./initial-state.ts";
import type { LoaderOptions, ModelPlan } from "./model-plan.ts";
import { versionParts } from "./version-parts.ts";

/**
 * tritonserver's --model-load-retry-count: a backend's failed instance load
 * is tried again that many times before the version fails with the last error.
 */
async function withRetries<T>(options: LoaderOptions, instance: string, load: () => Promise<T>): Promise<T> {
  const retries = options.loadRetryCount ?? 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await load();
    } catch (error) {
      if (attempt >= retries) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      options.onLoadRetry?.(`${instance}: load failed (${reason}); retry ${attempt + 1} of ${retries}`);
    }
  }
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
  if (!backend) return loadEnsembleVersion(name, version, plan, options);
  const started = performance.now();
  const versionText = String(version);
  const pinned = plan.pins.get(version);
  const validation = plan.validation.get(version);
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
  const devices = placements.map((placement) => placement.device);
  checkDevicePins(validation, devices, options.devices);
  const runtime = runtimeCheck(
    plan.runtimes.get(version),
    currentRuntime(devices.some((device) => device.startsWith("gpu:")) ? "cuda" : "cpu"),
    options.runtimeMismatch ?? "auto",
  );
  if (runtime.status === "FAIL") throw new HealthCheckError([runtime]);
  const parts = await versionParts(name, version, plan, options);
  const instances: ModelInstance[] = [];
  try {
    for (const { instanceName, device } of placements) {
      instances.push(
        await withRetries(options, instanceName, () =>
          backend.load({
            model: name,
            version: versionText,
            config,
            versionDir: dir.path,
            modelFile,
            instanceName,
            device,
            ...(options.router ? { caller: options.router } : {}),
            // A promoted pipeline calls exactly the versions it pins.
            ...(plan.pipelines.has(version) ? { calls: parts.composing } : {}),
          }),
        ),
      );
    }
    const batched = config.maxBatchSize > 0;
    const { readFile, latencyBoundMs, observer } = parts;
    const samples = await warmupSamples(config, readFile);
    const warmup = await warmUp(instances, samples, outputSpecs(config), batched, latencyBoundMs);
    if (warmup.status === "FAIL") throw new HealthCheckError([warmup]);
    const initialStates = await readInitialStates(name, config, readFile);
    const scheduler = createScheduler({
      model: name,
      version: versionText,
      config,
      instances,
      observer,
      initialStates,
    });
    const loaded = new ModelVersion({
      ...parts,
      config,
      version: versionText,
      instances,
      scheduler,
      devices: placements.map((placement) => placement.device),
      placementNotes: notes,
      sequenceId: readinessSequenceId(config),
      // Real inputs make the synthetic checks binding: a warm-up sample's, else a golden request's.
      syntheticInputs:
        config.modelWarmup.length > 0 ? firstRow(samples[0]?.inputs ?? [], config) : parts.golden[0]?.inputs,
    });
    const earlier = runtime.status === "SKIP" ? [warmup] : [runtime, warmup];
    loaded.health = verdict(await readinessChecks(loaded, earlier));
    if (runtime.status === "WARN") options.onRuntimeMismatch?.(name, versionText);
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

/** A sequence model's synthetic request is a one-request sequence with an id no client is likely to use. */
function readinessSequenceId(config: ModelConfig): bigint | string | undefined {
  if (config.schedulingChoice.case !== "sequenceBatching") return undefined;
  const corrid = config.schedulingChoice.value.controlInput
    .flatMap((input) => input.control)
    .find((control) => control.kind === ControlKind.CONTROL_SEQUENCE_CORRID);
  return corrid?.dataType === ConfigType.TYPE_STRING ? "ferry-readiness-check" : 2n ** 63n - 1n;
}
