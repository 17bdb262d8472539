import type { ModelInstance } from "../backends/backend.ts";
import type { TensorSpec } from "../config/tensor-spec.ts";
import { ComputationError, FerryError } from "../core/errors.ts";
import { StageClock } from "../core/stage-clock.ts";
import type { Tensor } from "../core/tensor.ts";
import { type CheckResult, INVENTED_INPUTS_HINT, timedCheck } from "./checks.ts";
import { outputProblem } from "./output-check.ts";
import type { WarmupSample } from "./samples.ts";

/**
 * Runs every warm-up sample `count` times on every instance, before the
 * version takes traffic (a GPU instance's first real inference happens
 * here). Each run must finish within the readiness latency bound, and its
 * outputs be of the declared shapes and finite; the first failure fails
 * the check with where it happened. On invented samples (no model_warmup)
 * the model's own computation failing, or producing unfit outputs, is a
 * warning instead: the instance did run, within the bound.
 */
export function warmUp(
  instances: readonly ModelInstance[],
  samples: readonly WarmupSample[],
  outputs: readonly TensorSpec[],
  batched: boolean,
  boundMs: number,
): Promise<CheckResult> {
  // An instance answers in the backend's shapes: config `reshape` where given.
  const backendShapes = outputs.map((spec) => ({ ...spec, dims: spec.reshape ?? spec.dims }));
  return timedCheck("warmup", async () => {
    let runs = 0;
    const warnings: string[] = [];
    for (const instance of instances) {
      for (const sample of samples) {
        for (let round = 0; round < sample.count; round++) {
          const where = `warm-up '${sample.name}' on ${instance.name} (${instance.device})`;
          const started = performance.now();
          const produced = await runSample(instance, sample, outputs, batched);
          const tookMs = performance.now() - started;
          if (tookMs > boundMs) {
            const over = `took ${tookMs.toFixed(1)} ms, over the bound of ${boundMs} ms (parameters readiness_max_latency_ms)`;
            throw new FerryError("UNAVAILABLE", "health", `${where} ${over}`);
          }
          const problem =
            produced instanceof ComputationError
              ? produced.message
              : outputProblem(produced, backendShapes, batched ? sample.batchSize : undefined);
          if (problem && !sample.invented) throw new FerryError("INTERNAL", "health", `${where}: ${problem}`);
          if (problem) {
            warnings.push(`${where}: ${problem}`);
            break;
          }
          runs++;
        }
      }
    }
    if (warnings.length > 0)
      return { status: "WARN", detail: `${warnings.join("; ")} — ${INVENTED_INPUTS_HINT}` };
    return {
      status: "PASS",
      detail: `${runs} run(s) of ${samples.map((sample) => `'${sample.name}'`).join(", ")} on ${instances.length} instance(s)`,
    };
  });
}

/** One run of a sample; a computation error on invented inputs comes back instead of being thrown. */
async function runSample(
  instance: ModelInstance,
  sample: WarmupSample,
  outputs: readonly TensorSpec[],
  batched: boolean,
): Promise<Tensor[] | ComputationError> {
  const batch = {
    inputs: sample.inputs,
    sizes: [batched ? sample.batchSize : 1],
    outputs: outputs.map((spec) => spec.name),
    clocks: [new StageClock()],
  };
  try {
    const [produced = []] = await instance.execute(batch);
    if (produced instanceof FerryError) throw produced;
    return produced;
  } catch (error) {
    if (sample.invented && error instanceof ComputationError) return error;
    throw error;
  }
}
