import { collectDefaultMetrics, Registry } from "prom-client";
import { registerCpuMetrics } from "./cpu-metrics.ts";
import { registerGpuMetrics } from "./gpu-metrics.ts";
import { InferenceMetrics, type MetricsOptions } from "./inference-metrics.ts";

export interface ServerMetrics {
  registry: Registry;
  inference: InferenceMetrics;
  /** Stops the per-interval sampling (GPU). */
  stop(): void;
}

/** One registry per server: Triton's inference, CPU and GPU metrics, plus prom-client's process metrics. */
export function createServerMetrics(options: MetricsOptions & { intervalMs?: number }): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerCpuMetrics(registry);
  const stopGpu = registerGpuMetrics(registry, options.intervalMs ?? 2000);
  return { registry, inference: new InferenceMetrics(registry, options), stop: stopGpu };
}
