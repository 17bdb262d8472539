import { expect, it } from "bun:test";
import { Registry } from "prom-client";
import { type GpuSample, parseNvidiaSmi, registerGpuMetrics } from "../../src/metrics/gpu-metrics.ts";
import { metricValue } from "../support/test-server.ts";

it("parses nvidia-smi's csv, counting [N/A] as 0", () => {
  const text = "GPU-aaaa, 37, 1024, 81559, 70.5\nGPU-bbbb, [N/A], 0, 81559, [N/A]\n";
  expect(parseNvidiaSmi(text)).toEqual([
    {
      uuid: "GPU-aaaa",
      utilization: 0.37,
      memoryUsedBytes: 1024 * 2 ** 20,
      memoryTotalBytes: 81559 * 2 ** 20,
      powerWatts: 70.5,
    },
    {
      uuid: "GPU-bbbb",
      utilization: 0,
      memoryUsedBytes: 0,
      memoryTotalBytes: 81559 * 2 ** 20,
      powerWatts: 0,
    },
  ]);
});

it("exposes Triton's GPU metrics per gpu_uuid and integrates power into energy", async () => {
  const registry = new Registry();
  const sample: GpuSample = {
    uuid: "GPU-aaaa",
    utilization: 0.5,
    memoryUsedBytes: 10,
    memoryTotalBytes: 100,
    powerWatts: 200,
  };
  const stop = registerGpuMetrics(registry, 20, () => [sample]);
  await Bun.sleep(70);
  stop();
  const text = await registry.metrics();
  expect(metricValue(text, 'nv_gpu_utilization{gpu_uuid="GPU-aaaa"}')).toBe(0.5);
  expect(metricValue(text, 'nv_gpu_memory_used_bytes{gpu_uuid="GPU-aaaa"}')).toBe(10);
  expect(metricValue(text, 'nv_gpu_memory_total_bytes{gpu_uuid="GPU-aaaa"}')).toBe(100);
  expect(metricValue(text, 'nv_gpu_power_usage{gpu_uuid="GPU-aaaa"}')).toBe(200);
  const joules = metricValue(text, 'nv_energy_consumption{gpu_uuid="GPU-aaaa"}') ?? 0;
  expect(joules).toBeGreaterThan(200 * 0.03);
  expect(joules).toBeLessThan(200 * 0.5);
});

it("registers nothing where nvidia-smi gives no GPUs", async () => {
  const registry = new Registry();
  registerGpuMetrics(registry, 20, () => undefined)();
  expect(await registry.metrics()).not.toContain("nv_gpu_");
});
