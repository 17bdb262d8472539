import { FerryError } from "../core/errors.ts";
import { HealthCheckError, verdict } from "../health/checks.ts";
import { readinessChecks } from "../health/version-checks.ts";
import { planEnsemble } from "../serving/ensemble/ensemble-plan.ts";
import { EnsembleScheduler } from "../serving/ensemble/ensemble-scheduler.ts";
import { ModelVersion } from "../serving/model-version.ts";
import type { LoaderOptions, ModelPlan } from "./model-plan.ts";
import { versionParts } from "./version-parts.ts";

/**
 * Loads one version of an ensemble: its version directory must exist (it
 * may be empty); its steps are checked against the composing models as they
 * serve now, which the model manager loaded first; then it passes the same
 * readiness checks as any model, its synthetic request running the whole DAG.
 */
export async function loadEnsembleVersion(
  name: string,
  version: number,
  plan: ModelPlan,
  options: LoaderOptions,
): Promise<ModelVersion> {
  const { config } = plan;
  const { router } = options;
  const scheduling = config.schedulingChoice;
  if (!router || scheduling.case !== "ensembleScheduling")
    throw new FerryError("INTERNAL", "repository", `model '${name}' is not an ensemble the loader can run`);
  const versionText = String(version);
  await options.source.materialize(name, versionText, plan.pins.get(version));
  const parts = await versionParts(name, version, plan, options);
  const ensemble = planEnsemble({
    name,
    model: parts.model,
    scheduling: scheduling.value,
    composing: (model, wanted) => router.resolve(model, wanted).model,
    pinned: new Map(
      parts.composing.flatMap((dependency) =>
        dependency.version ? [[dependency.model, dependency.version]] : [],
      ),
    ),
  });
  const loaded = new ModelVersion({
    ...parts,
    config,
    version: versionText,
    instances: [],
    scheduler: new EnsembleScheduler(ensemble, versionText, router),
    devices: [],
    placementNotes: [`ensemble of ${describeSteps(ensemble.steps)}`],
    sequenceId: undefined,
    syntheticInputs: parts.golden[0]?.inputs,
  });
  loaded.health = verdict(await readinessChecks(loaded, []));
  if (!loaded.health.ready) throw new HealthCheckError(loaded.health.checks);
  return loaded;
}

function describeSteps(steps: { model: string; version: string | undefined }[]): string {
  return steps
    .map((step) => `'${step.model}' (${step.version === undefined ? "latest" : `version ${step.version}`})`)
    .join(", ");
}
