import { readFileSync } from "node:fs";
import { Gauge, type Registry } from "prom-client";

/**
 * Triton's host metrics from /proc, sampled when scraped: nv_cpu_utilization
 * (all cores, since the previous scrape), nv_cpu_memory_total_bytes and
 * nv_cpu_memory_used_bytes. Absent where /proc is not readable (not Linux).
 */
export function registerCpuMetrics(registry: Registry): void {
  if (!readProc("/proc/stat")) return;
  let previous = cpuTimes();
  new Gauge({
    name: "nv_cpu_utilization",
    help: "CPU utilization rate [0.0 - 1.0] across all cores",
    registers: [registry],
    collect() {
      const current = cpuTimes();
      const total = current.total - previous.total;
      this.set(total > 0 ? (total - (current.idle - previous.idle)) / total : 0);
      previous = current;
    },
  });
  new Gauge({
    name: "nv_cpu_memory_total_bytes",
    help: "CPU total memory (RAM), in bytes",
    registers: [registry],
    collect() {
      this.set(memInfo().total);
    },
  });
  new Gauge({
    name: "nv_cpu_memory_used_bytes",
    help: "CPU used memory (RAM), in bytes",
    registers: [registry],
    collect() {
      const info = memInfo();
      this.set(info.total - info.available);
    },
  });
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function cpuTimes(): { total: number; idle: number } {
  const line = readProc("/proc/stat")?.split("\n")[0] ?? "";
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + (Number.isFinite(value) ? value : 0), 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { total, idle };
}

function memInfo(): { total: number; available: number } {
  const text = readProc("/proc/meminfo") ?? "";
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0) * 1024;
  return { total: kib("MemTotal"), available: kib("MemAvailable") };
}
