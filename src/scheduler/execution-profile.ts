/** Samples after which a batch size's estimate turns from a plain average into a decaying one. */
const SETTLE_SAMPLES = 10;

/** What the profile knows about one batch size. */
export interface ObservedSize {
  size: number;
  samples: number;
  meanUs: number;
  /** The execution time predicted at the objective's percentile. */
  predictedUs: number;
}

/** The straight line through the executions seen: fixed cost plus a cost per batch element, in ms. */
export interface ExecutionFit {
  fixedMs: number;
  perElementMs: number;
}

/**
 * Execution time per batch size, learned from the executions themselves:
 * per size a decaying mean and mean absolute deviation (the last ~10
 * executions weigh most, so a slower host or a warmer cache shows within a
 * few batches). Predictions come from a straight line (fixed cost + cost per
 * element) fitted through the sizes seen, weighted by how often each was
 * seen, so one noisy size does not make the curve zigzag; a prediction at a
 * percentile adds the normal quantile times the pooled deviation. With a
 * single size seen, larger batches are assumed to cost proportionally more.
 */
export class ExecutionProfile {
  private readonly samples: Uint32Array;
  private readonly mean: Float64Array;
  private readonly deviation: Float64Array;
  private readonly spread: number;
  private cached: { fit: ExecutionFit; deviation: number; onlySize?: number } | undefined;

  constructor(
    readonly maxBatchSize: number,
    percentile: number,
  ) {
    const sizes = Math.max(1, maxBatchSize) + 1;
    this.samples = new Uint32Array(sizes);
    this.mean = new Float64Array(sizes);
    this.deviation = new Float64Array(sizes);
    // Mean absolute deviation × 1.25 ≈ standard deviation for normal noise.
    this.spread = 1.25 * normalQuantile(percentile / 100);
  }

  record(size: number, ms: number): void {
    if (size < 1 || size >= this.samples.length || !(ms >= 0)) return;
    const seen = (this.samples[size] as number) + 1;
    this.samples[size] = seen;
    const weight = 1 / Math.min(seen, SETTLE_SAMPLES);
    const mean = this.mean[size] as number;
    if (seen > 1) {
      const deviation = this.deviation[size] as number;
      this.deviation[size] = deviation + (Math.abs(ms - mean) - deviation) * weight;
    }
    this.mean[size] = seen === 1 ? ms : mean + (ms - mean) * weight;
    this.cached = undefined;
  }

  /** Predicted execution time of a batch of `size` at the percentile, in ms; undefined before any execution was seen. */
  predict(size: number): number | undefined {
    const model = this.model();
    return model && this.line(model, size) + this.spread * model.deviation;
  }

  /** Expected (mean) execution time of a batch of `size`, in ms: what throughput follows. */
  expected(size: number): number | undefined {
    const model = this.model();
    return model && this.line(model, size);
  }

  private line(model: { fit: ExecutionFit; onlySize?: number }, size: number): number {
    const { fit, onlySize } = model;
    const ms =
      onlySize !== undefined && size > onlySize
        ? (fit.fixedMs * size) / onlySize
        : fit.fixedMs + fit.perElementMs * size;
    return Math.max(0, ms);
  }

  /** The fitted line, undefined before any execution was seen. */
  fit(): ExecutionFit | undefined {
    return this.model()?.fit;
  }

  /** Every batch size executed so far, for the verbose view. */
  observed(): ObservedSize[] {
    const sizes: ObservedSize[] = [];
    for (let size = 1; size < this.samples.length; size++) {
      const samples = this.samples[size] as number;
      if (samples === 0) continue;
      sizes.push({
        size,
        samples,
        meanUs: Math.round((this.mean[size] as number) * 1000),
        predictedUs: Math.round((this.predict(size) as number) * 1000),
      });
    }
    return sizes;
  }

  /** Weighted least squares over the sizes seen (weight: samples, at most SETTLE_SAMPLES). */
  private model() {
    if (this.cached) return this.cached;
    let weights = 0;
    let sumX = 0;
    let sumY = 0;
    let sumXX = 0;
    let sumXY = 0;
    let sumDeviation = 0;
    let sizesSeen = 0;
    let lastSize = 0;
    for (let size = 1; size < this.samples.length; size++) {
      const samples = this.samples[size] as number;
      if (samples === 0) continue;
      const weight = Math.min(samples, SETTLE_SAMPLES);
      const mean = this.mean[size] as number;
      weights += weight;
      sumX += weight * size;
      sumY += weight * mean;
      sumXX += weight * size * size;
      sumXY += weight * size * mean;
      sumDeviation += weight * (this.deviation[size] as number);
      sizesSeen++;
      lastSize = size;
    }
    if (weights === 0) return undefined;
    const deviation = sumDeviation / weights;
    if (sizesSeen === 1) {
      this.cached = { fit: { fixedMs: sumY / weights, perElementMs: 0 }, deviation, onlySize: lastSize };
      return this.cached;
    }
    const spreadX = sumXX - (sumX * sumX) / weights;
    // Execution never gets cheaper with more elements: a falling line is noise.
    const perElementMs = Math.max(0, (sumXY - (sumX * sumY) / weights) / spreadX);
    const fixedMs = Math.max(0, (sumY - perElementMs * sumX) / weights);
    this.cached = { fit: { fixedMs, perElementMs }, deviation };
    return this.cached;
  }
}

/** The standard normal quantile (Abramowitz & Stegun 26.2.23, error < 4.5e-4); 0 at the median. */
export function normalQuantile(p: number): number {
  if (p <= 0 || p >= 1) return p <= 0 ? -Infinity : Infinity;
  if (p < 0.5) return -normalQuantile(1 - p);
  const t = Math.sqrt(-2 * Math.log(1 - p));
  return (
    t -
    (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t ** 3)
  );
}
