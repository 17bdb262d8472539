import type { ModelConfig } from "../gen/model_config_pb.ts";

/** A model another model runs on; version undefined = whichever the model's routes pick. */
export interface ModelDependency {
  model: string;
  version: string | undefined;
}

/** `parameters { key: "ferry.calls" }`: the models a TypeScript model calls, `name` or `name:version`, comma-separated. */
export const CALLS_PARAMETER = "ferry.calls";

/**
 * The models a model needs loaded to serve: an ensemble's steps, or the
 * models a TypeScript model declares it calls. Known from the config alone,
 * before any request runs, so they load first and readiness can follow them.
 */
export function dependenciesOf(config: ModelConfig): ModelDependency[] {
  const scheduling = config.schedulingChoice;
  if (scheduling.case === "ensembleScheduling") {
    return scheduling.value.step.map((step) => ({
      model: step.modelName,
      version: step.modelVersion > 0n ? String(step.modelVersion) : undefined,
    }));
  }
  return declaredCalls(config) ?? [];
}

/** The calls a model declares, or undefined when it declares none (then it may call any model). */
export function declaredCalls(config: ModelConfig): ModelDependency[] | undefined {
  const text = config.parameters[CALLS_PARAMETER]?.stringValue;
  if (text === undefined) return undefined;
  return text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const [model = "", version] = entry.split(":");
      return { model, version };
    });
}

/** Config problems of a `ferry.calls` declaration. */
export function checkCalls(config: ModelConfig, report: (path: string, message: string) => void): void {
  for (const call of declaredCalls(config) ?? []) {
    const path = `parameters['${CALLS_PARAMETER}']`;
    if (!/^[A-Za-z0-9_.-]+$/.test(call.model)) report(path, `'${call.model}' is not a model name`);
    if (call.version !== undefined && !/^[1-9][0-9]*$/.test(call.version))
      report(path, `'${call.model}:${call.version}' names no version number`);
  }
}
