import { collectDefaultMetrics, Registry } from "prom-client";
import { registerCpuMetrics } from "./cpu-metrics.ts";
import { InferenceMetrics, type MetricsOptions } from "./inference-metrics.ts";

export interface ServerMetrics {
  registry: Registry;
  inference: InferenceMetrics;
}

/** One registry per server: Triton's inference and CPU metrics, plus prom-client's process metrics. */
export function createServerMetrics(options: MetricsOptions): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerCpuMetrics(registry);
  return { registry, inference: new InferenceMetrics(registry, options) };
}
