import { readFileSync } from "node:fs";
import { round } from "./stats.ts";

/** The parts of a Chrome .cpuprofile (what `bun --cpu-prof` writes) this bench reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  /** Wall-clock µs since the epoch. */
  startTime: number;
  timeDeltas: number[];
}

export interface HotFunction {
  function: string;
  where: string;
  /** Share of all samples taken on the JS thread. */
  percent: number;
  /** Sampled JS-thread time in this function per request, µs. */
  usPerRequest: number;
}

/**
 * Self time per function from a CPU profile, counted in samples. JavaScriptCore
 * samples only while the thread runs JavaScript (or native code it called), so
 * the count × interval is CPU time on the JS thread; the profile's own time
 * deltas also cover idle gaps and would blame whatever ran last. Only
 * samples inside `windowMs` (wall clock, ms since the epoch) count.
 */
export function hotFunctions(
  path: string,
  options: { intervalUs: number; requests: number; top: number; windowMs: [number, number] },
): { samples: number; jsUsPerRequest: number; hot: HotFunction[] } {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const counts = new Map<string, { function: string; where: string; samples: number }>();
  const [from, to] = options.windowMs.map((ms) => ms * 1000) as [number, number];
  let at = profile.startTime;
  let samples = 0;
  for (const [index, id] of profile.samples.entries()) {
    at += profile.timeDeltas[index] ?? 0;
    if (at < from || at > to) continue;
    const frame = frames.get(id);
    if (!frame || frame.functionName === "(idle)" || frame.functionName === "(root)") continue;
    samples++;
    const where = frame.url
      ? `${shortPath(frame.url)}${frame.lineNumber >= 0 ? `:${frame.lineNumber + 1}` : ""}`
      : "native";
    const key = `${frame.functionName}@${where}`;
    const entry = counts.get(key) ?? { function: frame.functionName || "(anonymous)", where, samples: 0 };
    entry.samples++;
    counts.set(key, entry);
  }
  const { intervalUs, requests } = options;
  const perRequest = (count: number) => (requests > 0 ? round((count * intervalUs) / requests, 1) : 0);
  const hot = [...counts.values()]
    .sort((a, b) => b.samples - a.samples)
    .slice(0, options.top)
    .map((entry) => ({
      function: entry.function,
      where: entry.where,
      percent: round((100 * entry.samples) / Math.max(1, samples), 1),
      usPerRequest: perRequest(entry.samples),
    }));
  return { samples, jsUsPerRequest: perRequest(samples), hot };
}

function shortPath(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const modules = path.lastIndexOf("node_modules/");
  if (modules >= 0) return path.slice(modules + "node_modules/".length);
  const source = path.lastIndexOf("/src/");
  return source >= 0 ? path.slice(source + 1) : path;
}

/** Per-thread CPU used between two snapshots, µs per request. */
export function threadDelta(
  before: Map<string, number>,
  after: Map<string, number>,
  requests: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, us] of after) {
    const spent = us - (before.get(name) ?? 0);
    if (spent > 0) out[name] = requests > 0 ? round(spent / requests, 1) : round(spent);
  }
  return out;
}
