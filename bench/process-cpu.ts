import { readdirSync, readFileSync } from "node:fs";

/**
 * A process's resources from /proc (Linux): CPU time per thread from
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds of run time), and resident
 * memory. Unlike latency, CPU per request barely moves when the machine is
 * busy with something else.
 */

/** CPU time a process has used, in µs, summed over its threads; undefined off Linux. */
export function processCpuUs(pid: number): number | undefined {
  const threads = cpuByThread(pid);
  if (threads.size === 0) return undefined;
  return [...threads.values()].reduce((sum, us) => sum + us, 0);
}

/**
 * CPU time of a process by thread name, µs (from /proc/<pid>/task/<tid>),
 * so the event loop, workers and onnxruntime's threads can be told apart.
 */
export function cpuByThread(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0] ?? 0);
      const label = Number(tid) === pid ? "main (event loop)" : threadKind(name);
      byName.set(label, (byName.get(label) ?? 0) + ns / 1000);
    }
  } catch {
    // The process is gone or this is not Linux: no breakdown.
  }
  return byName;
}

/** Threads grouped by what they are: Bun names its own, onnxruntime's pool threads inherit the creator's name. */
function threadKind(name: string): string {
  if (/^bun$/i.test(name)) return "other bun threads";
  return name.replace(/[\d-]+$/, "").trim() || name;
}

/** Resident memory of a process, MB (VmRSS). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024);
}
