import type { ModelConfig } from "../gen/model_config_pb.ts";

type Report = (path: string, message: string) => void;

/** `platform: "ensemble"` or an `ensemble_scheduling` block: either one makes an ensemble. */
export function isEnsemble(config: ModelConfig): boolean {
  return config.platform === "ensemble" || config.schedulingChoice.case === "ensembleScheduling";
}

/**
 * The config-level rules of an ensemble, checked on the config as written
 * (before defaults add an instance group): the platform and the scheduling
 * block go together, there is at least one step and each names a model,
 * and an ensemble has no instances and no warm-up of its own. How the
 * steps fit the composing models is checked at load, against those models.
 */
export function checkEnsemble(config: ModelConfig, report: Report): void {
  const scheduling = config.schedulingChoice;
  if (scheduling.case !== "ensembleScheduling") {
    report("ensemble_scheduling", "platform 'ensemble' needs an ensemble_scheduling block");
    return;
  }
  if (config.platform !== "ensemble") report("platform", 'ensemble_scheduling needs platform: "ensemble"');
  if (config.backend) report("backend", `an ensemble has no backend, got '${config.backend}'`);
  if (config.instanceGroup.length > 0) report("instance_group", "must be empty for an ensemble");
  if (config.modelWarmup.length > 0) report("model_warmup", "must be empty for an ensemble");
  const steps = scheduling.value.step;
  if (steps.length === 0) report("ensemble_scheduling.step", "an ensemble needs at least one step");
  steps.forEach((step, index) => {
    const path = `ensemble_scheduling.step[${index}]`;
    if (!step.modelName) report(`${path}.model_name`, "must not be empty");
    if (step.modelVersion < -1n || step.modelVersion === 0n)
      report(`${path}.model_version`, `must be -1 (latest) or a version number, got ${step.modelVersion}`);
    if (step.modelNamespace) report(`${path}.model_namespace`, "is reserved and must not be set");
  });
}
