import { FerryError } from "../core/errors.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";

/** `parameters { key: "ferry.latency_objective_ms" value { string_value: "50" } }`: the p-th percentile target. */
export const OBJECTIVE_MS = "ferry.latency_objective_ms";
/** Which percentile the objective bounds; 99 when absent. */
export const OBJECTIVE_PERCENTILE = "ferry.latency_objective_percentile";
/** What happens to a request that can no longer meet the objective: "serve" (default) or "reject". */
export const LATE_REQUESTS = "ferry.late_requests";

export type LateRequests = "serve" | "reject";

/** A model's latency objective: arrival to answer, in ms, at a percentile. */
export interface LatencyObjective {
  objectiveMs: number;
  percentile: number;
  lateRequests: LateRequests;
}

type Report = (path: string, message: string) => void;

/**
 * The objective a config asks for, or undefined when it sets none (then
 * batching is exactly Triton's). Throws a config error naming the parameter.
 */
export function latencyObjectiveOf(config: ModelConfig): LatencyObjective | undefined {
  const problems: string[] = [];
  const objective = readObjective(config, (path, message) => problems.push(`${path}: ${message}`));
  if (problems.length > 0) throw new FerryError("INVALID_ARGUMENT", "config", problems.join("; "));
  return objective;
}

/** validateConfig's check of the objective parameters. */
export function checkLatencyObjective(config: ModelConfig, report: Report): void {
  readObjective(config, report);
}

function readObjective(config: ModelConfig, report: Report): LatencyObjective | undefined {
  const text = (key: string) => config.parameters[key]?.stringValue;
  const objectiveText = text(OBJECTIVE_MS);
  const percentileText = text(OBJECTIVE_PERCENTILE);
  const lateText = text(LATE_REQUESTS);
  if (objectiveText === undefined) {
    for (const [key, value] of [
      [OBJECTIVE_PERCENTILE, percentileText],
      [LATE_REQUESTS, lateText],
    ] as const) {
      if (value !== undefined) report(`parameters['${key}']`, `has no effect without '${OBJECTIVE_MS}'`);
    }
    return undefined;
  }
  const unsupported =
    config.platform === "ensemble"
      ? "ensembles"
      : config.schedulingChoice.case === "sequenceBatching"
        ? "sequence_batching"
        : undefined;
  if (unsupported) {
    report(
      `parameters['${OBJECTIVE_MS}']`,
      `applies to the default scheduler and dynamic_batching, not to ${unsupported}`,
    );
    return undefined;
  }
  const objectiveMs = Number(objectiveText.trim());
  const percentile = percentileText === undefined ? 99 : Number(percentileText.trim());
  let valid = true;
  if (objectiveText.trim() === "" || !Number.isFinite(objectiveMs) || objectiveMs <= 0) {
    report(`parameters['${OBJECTIVE_MS}']`, `must be a number of milliseconds > 0, got '${objectiveText}'`);
    valid = false;
  }
  if (percentileText?.trim() === "" || !Number.isFinite(percentile) || percentile <= 0 || percentile >= 100) {
    report(`parameters['${OBJECTIVE_PERCENTILE}']`, `must be a number in (0, 100), got '${percentileText}'`);
    valid = false;
  }
  const late = lateText?.trim() ?? "serve";
  if (late !== "serve" && late !== "reject") {
    report(`parameters['${LATE_REQUESTS}']`, `must be "serve" or "reject", got '${lateText}'`);
    valid = false;
  }
  return valid ? { objectiveMs, percentile, lateRequests: late as LateRequests } : undefined;
}
