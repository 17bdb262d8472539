import type { ModelInstance } from "../backends/backend.ts";
import type { TensorSpec } from "../config/tensor-spec.ts";
import { FerryError } from "../core/errors.ts";
import { StageClock } from "../core/stage-clock.ts";
import { type CheckResult, timedCheck } from "./checks.ts";
import { outputProblem } from "./output-check.ts";
import type { WarmupSample } from "./samples.ts";

/**
 * Runs every warm-up sample `count` times on every instance, before the
 * version takes traffic (a GPU instance's first real inference happens
 * here). Each run must finish within the readiness latency bound, and its
 * outputs be of the declared shapes and finite; the first failure fails
 * the check with where it happened.
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
    for (const instance of instances) {
      for (const sample of samples) {
        for (let round = 0; round < sample.count; round++) {
          const batch = {
            inputs: sample.inputs,
            sizes: [batched ? sample.batchSize : 1],
            outputs: outputs.map((spec) => spec.name),
            clocks: [new StageClock()],
          };
          const started = performance.now();
          const [produced = []] = await instance.execute(batch);
          const tookMs = performance.now() - started;
          const where = `warm-up '${sample.name}' on ${instance.name} (${instance.device})`;
          if (tookMs > boundMs) {
            const over = `took ${tookMs.toFixed(1)} ms, over the bound of ${boundMs} ms (parameters readiness_max_latency_ms)`;
            throw new FerryError("UNAVAILABLE", "health", `${where} ${over}`);
          }
          const problem = outputProblem(produced, backendShapes, batched ? sample.batchSize : undefined);
          if (problem) throw new FerryError("INTERNAL", "health", `${where}: ${problem}`);
          runs++;
        }
      }
    }
    return {
      status: "PASS",
      detail: `${runs} run(s) of ${samples.map((sample) => `'${sample.name}'`).join(", ")} on ${instances.length} instance(s)`,
    };
  });
}
