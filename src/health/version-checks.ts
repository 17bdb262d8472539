import type { ModelInterface } from "../backends/request-check.ts";
import type { InferRequest, InferResponse } from "../core/request.ts";
import { StageClock } from "../core/stage-clock.ts";
import { type Tensor, zeroTensor } from "../core/tensor.ts";
import { type CheckResult, timedCheck } from "./checks.ts";
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
  infer(request: InferRequest): Promise<InferResponse>;
}

/**
 * The checks that make a version "ready", beyond being loaded: its backend
 * runs on the devices the config asked for, a GPU path was exercised where
 * KIND_GPU, and a synthetic request through the whole request path is
 * answered within the latency bound with outputs of the declared shapes
 * and finite values.
 */
export async function readinessChecks(
  version: CheckedVersion,
  warmup: CheckResult | undefined,
): Promise<CheckResult[]> {
  const checks: CheckResult[] = [
    await timedCheck("backend", async () => ({
      status: "PASS",
      detail: [
        `${version.devices.length} instance(s) on ${[...new Set(version.devices)].join(", ")}`,
        ...version.placementNotes,
      ].join("; "),
    })),
    await timedCheck("gpu", async () => {
      const gpus = version.devices.filter((device) => device.startsWith("gpu:"));
      if (gpus.length === 0) return { status: "SKIP", detail: "no KIND_GPU instances" };
      return warmup?.status === "PASS"
        ? { status: "PASS", detail: `warm-up ran on ${[...new Set(gpus)].join(", ")}` }
        : { status: "FAIL", detail: "no inference has run on the GPU instances" };
    }),
  ];
  if (warmup) checks.push(warmup);
  checks.push(...(await syntheticChecks(version)));
  return checks;
}

/** The checks that re-run on a schedule: a synthetic request within the bound, with sound outputs. */
export async function syntheticChecks(version: CheckedVersion): Promise<CheckResult[]> {
  let response: InferResponse | undefined;
  const inference = await timedCheck("synthetic_inference", async () => {
    const started = performance.now();
    response = await version.infer(syntheticRequest(version));
    const tookMs = performance.now() - started;
    const took = `${tookMs.toFixed(1)} ms`;
    return tookMs <= version.latencyBoundMs
      ? { status: "PASS", detail: `answered in ${took} (bound ${version.latencyBoundMs} ms)` }
      : {
          status: "FAIL",
          detail: `took ${took}, over the bound of ${version.latencyBoundMs} ms (parameters readiness_max_latency_ms)`,
        };
  });
  const outputs = await timedCheck("outputs", async () => {
    if (!response) return { status: "FAIL", detail: "no synthetic answer to check" };
    const problem = outputProblem(
      response.outputs,
      version.model.outputs,
      version.model.maxBatchSize > 0 ? 1 : undefined,
    );
    return problem
      ? { status: "FAIL", detail: problem }
      : { status: "PASS", detail: `${response.outputs.length} output(s) of declared shapes, all finite` };
  });
  return [inference, outputs];
}

/** The first warm-up sample's client inputs, or zeros for every required input (batch 1, variable dims as 1). */
function syntheticRequest(version: CheckedVersion): InferRequest {
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
    inputs: version.syntheticInputs ?? zeros(),
    parameters: {},
    signal: new AbortController().signal,
    timing: new StageClock(),
    internal: true,
  };
  if (version.sequenceId !== undefined) request.sequence = { id: version.sequenceId, start: true, end: true };
  return request;
}
