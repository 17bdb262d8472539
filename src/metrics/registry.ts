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

const EVENT_LOOP_LAG_RESOLUTION_MS = 100;

/** One registry per server: Triton's inference, CPU and GPU metrics, plus prom-client's process metrics. */
export function createServerMetrics(
  options: MetricsOptions & { intervalMs?: number; gpu?: boolean; cpu?: boolean },
): ServerMetrics {
  const registry = new Registry();
  // prom-client samples event-loop delay with a 10 ms timer by default: 100
  // wakeups a second on an idle server. Stalls that matter are far longer.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_LAG_RESOLUTION_MS });
  if (options.cpu !== false) registerCpuMetrics(registry);
  const stopGpu = options.gpu !== false ? registerGpuMetrics(registry, options.intervalMs ?? 2000) : () => {};
  return { registry, inference: new InferenceMetrics(registry, options), stop: stopGpu };
}
