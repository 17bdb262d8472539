import { Counter, Gauge, type Registry } from "prom-client";
import { runCommand } from "../runtime/process.ts";

/** One GPU's sample from nvidia-smi. */
export interface GpuSample {
  uuid: string;
  utilization: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  powerWatts: number;
}

const QUERY = "--query-gpu=uuid,utilization.gpu,memory.used,memory.total,power.draw";

/**
 * Parses `nvidia-smi --query-gpu=uuid,utilization.gpu,memory.used,memory.total,power.draw
 * --format=csv,noheader,nounits` (MiB, %, W). Fields nvidia-smi cannot read
 * ("[N/A]") count as 0.
 */
export function parseNvidiaSmi(text: string): GpuSample[] {
  return text
    .split("\n")
    .map((line) => line.split(",").map((field) => field.trim()))
    .filter((fields) => fields.length === 5 && fields[0]?.startsWith("GPU-"))
    .map(([uuid, utilization, used, total, power]) => ({
      uuid: uuid as string,
      utilization: number(utilization) / 100,
      memoryUsedBytes: number(used) * 1024 * 1024,
      memoryTotalBytes: number(total) * 1024 * 1024,
      powerWatts: number(power),
    }));
}

function number(field: string | undefined): number {
  const value = Number(field);
  return Number.isFinite(value) ? value : 0;
}

/**
 * Triton's GPU metrics, sampled every `intervalMs` from nvidia-smi while it
 * answers; nothing is registered on a host without it. Energy is the
 * integral of power over the samples. Returns a stop function.
 */
export function registerGpuMetrics(
  registry: Registry,
  intervalMs: number,
  sample: () => GpuSample[] | undefined = sampleNvidiaSmi,
): () => void {
  const first = sample();
  if (!first || first.length === 0) return () => {};
  const labelNames = ["gpu_uuid"] as const;
  const registers = [registry];
  const utilization = new Gauge({
    name: "nv_gpu_utilization",
    help: "GPU utilization rate [0.0 - 1.0)",
    labelNames,
    registers,
  });
  const used = new Gauge({
    name: "nv_gpu_memory_used_bytes",
    help: "GPU used memory, in bytes",
    labelNames,
    registers,
  });
  const total = new Gauge({
    name: "nv_gpu_memory_total_bytes",
    help: "GPU total memory, in bytes",
    labelNames,
    registers,
  });
  const power = new Gauge({
    name: "nv_gpu_power_usage",
    help: "GPU power usage, in watts",
    labelNames,
    registers,
  });
  const energy = new Counter({
    name: "nv_energy_consumption",
    help: "GPU energy consumption since start, in joules",
    labelNames,
    registers,
  });
  let last = performance.now();
  const record = (samples: GpuSample[]) => {
    const now = performance.now();
    const seconds = (now - last) / 1000;
    last = now;
    for (const gpu of samples) {
      const labels = { gpu_uuid: gpu.uuid };
      utilization.set(labels, gpu.utilization);
      used.set(labels, gpu.memoryUsedBytes);
      total.set(labels, gpu.memoryTotalBytes);
      power.set(labels, gpu.powerWatts);
      energy.inc(labels, gpu.powerWatts * seconds);
    }
  };
  record(first);
  const timer = setInterval(() => {
    const samples = sample();
    if (samples) record(samples);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function sampleNvidiaSmi(): GpuSample[] | undefined {
  try {
    const result = runCommand(["nvidia-smi", QUERY, "--format=csv,noheader,nounits"], 5000);
    return result.exitCode === 0 ? parseNvidiaSmi(result.stdout) : undefined;
  } catch {
    return undefined;
  }
}
