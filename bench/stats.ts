/** Latency summary in µs: percentiles by nearest rank. */
export interface LatencySummary {
  count: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p95Us: number;
  p99Us: number;
}

export function summarize(latenciesUs: number[]): LatencySummary {
  const sorted = [...latenciesUs].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
  return {
    count: sorted.length,
    meanUs: round(mean),
    p50Us: round(at(0.5)),
    p90Us: round(at(0.9)),
    p95Us: round(at(0.95)),
    p99Us: round(at(0.99)),
  };
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
