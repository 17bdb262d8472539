import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time a process has used, in µs, summed over its threads (the event
 * loop and onnxruntime's workers) from /proc/<pid>/task/<tid>/schedstat,
 * which counts nanoseconds. Unlike latency, CPU per request barely moves
 * when the machine is busy with something else. Undefined off Linux.
 */
export function processCpuUs(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ");
      ns += Number(fields[0] ?? 0);
    }
    return ns / 1000;
  } catch {
    return undefined;
  }
}
