import type { ModelInterface } from "../config/model-interface.ts";
import { ComputationError } from "../core/errors.ts";
import type { InferRequest, InferResponse } from "../core/request.ts";
import { StageClock } from "../core/stage-clock.ts";
import { type Tensor, zeroTensor } from "../core/tensor.ts";
import { type CheckResult, INVENTED_INPUTS_HINT, timedCheck } from "./checks.ts";
import { type GoldenRequest, goldenDiff } from "./golden.ts";
import { outputProblem } from "./output-check.ts";

/** What the checks need of a loaded version. */
export interface CheckedVersion {
  model: ModelInterface;
  /** Devices of its instances, e.g. ["cpu", "cpu"] or ["gpu:0"]. */
  devices: string[];
  /** Notes from instance placement (a GPU group that fell back to CPU). */
  placementNotes: string[];
  /** Sequence models need a sequence id on the synthetic request. */
  sequenceId: bigint | string | undefined;
  /** parameters readiness_max_latency_ms. */
  latencyBoundMs: number;
  /** Client inputs of the synthetic request (batch 1); zeros when the config has no model_warmup. */
  syntheticInputs: Tensor[] | undefined;
  /** golden.json: representative requests with the answers they must get. */
  golden: readonly GoldenRequest[];
  infer(request: InferRequest): Promise<InferResponse>;
}

/**
 * The checks that make a version "ready", beyond being loaded (after the
 * ones the loader ran first: runtime, warm-up): its backend
 * runs on the devices the config asked for, a GPU path was exercised where
 * KIND_GPU, and a synthetic request through the whole request path is
 * answered within the latency bound with outputs of the declared shapes
 * and finite values.
 */
export async function readinessChecks(
  version: CheckedVersion,
  earlier: CheckResult[],
): Promise<CheckResult[]> {
  const warmup = earlier.find((check) => check.name === "warmup");
  const checks: CheckResult[] = [
    await timedCheck("backend", async () => ({
      status: "PASS",
      // An ensemble has no instances: its notes say what it runs on.
      detail: [
        ...(version.devices.length > 0
          ? [`${version.devices.length} instance(s) on ${[...new Set(version.devices)].join(", ")}`]
          : []),
        ...version.placementNotes,
      ].join("; "),
    })),
    await timedCheck("gpu", async () => {
      const gpus = version.devices.filter((device) => device.startsWith("gpu:"));
      if (gpus.length === 0) return { status: "SKIP", detail: "no KIND_GPU instances" };
      const on = [...new Set(gpus)].join(", ");
      if (warmup?.status === "PASS") return { status: "PASS", detail: `warm-up ran on ${on}` };
      // The sessions on the GPU did run; what failed was the model on made-up data.
      if (warmup?.status === "WARN")
        return { status: "WARN", detail: `warm-up ran on ${on} but failed ${INVENTED_INPUTS_HINT}` };
      return { status: "FAIL", detail: "no inference has run on the GPU instances" };
    }),
  ];
  checks.push(...earlier);
  checks.push(...(await syntheticChecks(version)));
  // Before a version serves, each golden request runs once per instance (the pool hands each run to the next).
  if (version.golden.length > 0) checks.push(await goldenCheck(version, Math.max(1, version.devices.length)));
  return checks;
}

/** The checks the monitor re-runs on a schedule. */
export const PERIODIC_CHECKS = ["synthetic_inference", "outputs", "golden"];

export async function periodicChecks(version: CheckedVersion): Promise<CheckResult[]> {
  const checks = await syntheticChecks(version);
  if (version.golden.length > 0) checks.push(await goldenCheck(version, 1));
  return checks;
}

/**
 * Every golden request `rounds` times through the whole request path; the
 * first answer that differs fails the check with which request, which
 * output and by how much.
 */
export function goldenCheck(version: CheckedVersion, rounds: number): Promise<CheckResult> {
  return timedCheck("golden", async () => {
    for (const golden of version.golden) {
      for (let round = 1; round <= rounds; round++) {
        const request = syntheticRequest(version, golden.inputs);
        request.parameters = { ...golden.parameters };
        request.outputs = golden.outputs.map((output) => ({ name: output.name }));
        const response = await version.infer(request);
        const diff = goldenDiff(response.outputs, golden.outputs);
        if (diff) {
          const run = rounds > 1 ? ` (run ${round} of ${rounds})` : "";
          return { status: "FAIL", detail: `golden request '${golden.name}'${run}: ${diff}` };
        }
      }
    }
    return {
      status: "PASS",
      detail: `${version.golden.length} golden request(s), ${rounds} run(s) each: every output as expected`,
    };
  });
}

/**
 * The checks that re-run on a schedule: a synthetic request within the
 * bound, with sound outputs. On invented inputs (no model_warmup) the
 * model's own computation failing or giving unfit outputs is a warning.
 */
export async function syntheticChecks(version: CheckedVersion): Promise<CheckResult[]> {
  const invented = version.syntheticInputs === undefined;
  let response: InferResponse | undefined;
  let dataFailure: string | undefined;
  const inference = await timedCheck("synthetic_inference", async () => {
    const started = performance.now();
    try {
      response = await version.infer(syntheticRequest(version));
    } catch (error) {
      if (!(invented && error instanceof ComputationError)) throw error;
      dataFailure = error.message;
    }
    const tookMs = performance.now() - started;
    const took = `${tookMs.toFixed(1)} ms`;
    if (tookMs > version.latencyBoundMs) {
      return {
        status: "FAIL",
        detail: `took ${took}, over the bound of ${version.latencyBoundMs} ms (parameters readiness_max_latency_ms)`,
      };
    }
    if (dataFailure) return { status: "WARN", detail: `${dataFailure} — ${INVENTED_INPUTS_HINT}` };
    return { status: "PASS", detail: `answered in ${took} (bound ${version.latencyBoundMs} ms)` };
  });
  const outputs = await timedCheck("outputs", async () => {
    if (!response) {
      return dataFailure
        ? { status: "SKIP", detail: "no synthetic answer to check" }
        : { status: "FAIL", detail: "no synthetic answer to check" };
    }
    const problem = outputProblem(
      response.outputs,
      version.model.outputs,
      version.model.maxBatchSize > 0 ? 1 : undefined,
    );
    if (!problem)
      return {
        status: "PASS",
        detail: `${response.outputs.length} output(s) of declared shapes, all finite`,
      };
    return invented
      ? { status: "WARN", detail: `${problem} — ${INVENTED_INPUTS_HINT}` }
      : { status: "FAIL", detail: problem };
  });
  return [inference, outputs];
}

/** The first warm-up sample's client inputs, or zeros for every required input (batch 1, variable dims as 1). */
function syntheticRequest(version: CheckedVersion, inputs = version.syntheticInputs): InferRequest {
  const batched = version.model.maxBatchSize > 0;
  const zeros = () =>
    version.model.inputs
      .filter((spec) => !spec.optional)
      .map((spec) => {
        const dims = spec.dims.map((dim) => (dim < 0 ? 1 : dim));
        return zeroTensor(spec.name, spec.datatype, batched ? [1, ...dims] : dims);
      });
  const request: InferRequest = {
    model: version.model.name,
    id: "ferry-readiness-check",
    inputs: inputs ?? zeros(),
    parameters: {},
    signal: new AbortController().signal,
    timing: new StageClock(),
    internal: true,
  };
  if (version.sequenceId !== undefined) request.sequence = { id: version.sequenceId, start: true, end: true };
  return request;
}
