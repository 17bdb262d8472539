import { Counter, Gauge, Histogram, type Registry, Summary } from "prom-client";
import type { FailureReason, InferenceObserver } from "../core/observer.ts";
import type { StageClock } from "../core/stage-clock.ts";
import { ObjectiveMetrics } from "./objective-metrics.ts";

export interface MetricsOptions {
  /** Triton's cumulative µs counters (`--metrics-config counter_latencies`), default on. */
  counterLatencies: boolean;
  /** Latency and batch-size histograms (`--metrics-config histogram_latencies`), default on in ferry. */
  histogramLatencies: boolean;
  /** tritonserver's latency summaries (`--metrics-config summary_latencies=true`): their quantiles; off when absent. */
  summaryLatencies?: { quantile: number; error: number }[];
}

const LATENCY_BUCKETS_US = [
  100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 5_000_000,
];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const MODEL_LABELS = ["model", "version"] as const;

/**
 * Triton's per-model inference metrics, with the exact names, types and
 * labels of tritonserver (counters without a `_total` suffix), plus
 * histograms of the same durations and of executed batch sizes.
 */
export class InferenceMetrics {
  private readonly success: Counter<"model" | "version">;
  private readonly failure: Counter<"model" | "version" | "reason">;
  private readonly inferenceCount: Counter<"model" | "version">;
  private readonly execCount: Counter<"model" | "version">;
  private readonly pending: Gauge<"model" | "version">;
  private readonly loadDuration: Gauge<"model" | "version">;
  private readonly warmupDuration: Gauge<"model" | "version">;
  private readonly loadFailures: Counter<"model" | "version">;
  private readonly runtimeMismatches: Counter<"model" | "version">;
  private readonly durations: Record<Stage, Counter<"model" | "version">>;
  private readonly histograms: Record<Stage, Histogram<"model" | "version">>;
  private readonly summaries: Record<Stage, Summary<"model" | "version">> | undefined;
  private readonly batchSize: Histogram<"model" | "version">;
  private readonly objective: ObjectiveMetrics;

  constructor(
    registry: Registry,
    readonly options: MetricsOptions,
  ) {
    const registers = [registry];
    const counter = (name: string, help: string) =>
      new Counter({ name, help, labelNames: MODEL_LABELS, registers });
    this.success = counter(
      "nv_inference_request_success",
      "Number of successful inference requests, all batch sizes",
    );
    this.failure = new Counter({
      name: "nv_inference_request_failure",
      help: "Number of failed inference requests, all batch sizes, by reason",
      labelNames: [...MODEL_LABELS, "reason"],
      registers,
    });
    this.inferenceCount = counter(
      "nv_inference_count",
      "Number of inferences performed (a batch of n counts n)",
    );
    this.execCount = counter("nv_inference_exec_count", "Number of model executions performed");
    this.pending = new Gauge({
      name: "nv_inference_pending_request_count",
      help: "Requests accepted and waiting for a model instance",
      labelNames: MODEL_LABELS,
      registers,
    });
    this.loadDuration = new Gauge({
      name: "nv_model_load_duration_secs",
      help: "Time taken to load the model version, in seconds",
      labelNames: MODEL_LABELS,
      registers,
    });
    this.warmupDuration = new Gauge({
      name: "ferry_model_warmup_duration_seconds",
      help: "Time the model version's warm-up took on all its instances, in seconds",
      labelNames: MODEL_LABELS,
      registers,
    });
    this.loadFailures = new Counter({
      name: "ferry_model_load_failures_total",
      help: "Loads of a model version that failed (missing file, checksum mismatch, bad manifest or config, backend error, failed validation)",
      labelNames: MODEL_LABELS,
      registers,
    });
    this.runtimeMismatches = new Counter({
      name: "ferry_runtime_mismatch_total",
      help: "Versions that serve on another runtime (ferry, onnxruntime-node, Bun, execution provider) than they were promoted with (--runtime-mismatch warns)",
      labelNames: MODEL_LABELS,
      registers,
    });
    const stageCounters = options.counterLatencies ? registers : [];
    const stageCounter = (name: string, help: string) =>
      new Counter({ name, help, labelNames: MODEL_LABELS, registers: stageCounters });
    this.durations = {
      request: stageCounter(
        "nv_inference_request_duration_us",
        "Cumulative end-to-end inference request time, in µs",
      ),
      queue: stageCounter("nv_inference_queue_duration_us", "Cumulative time requests spent queued, in µs"),
      computeInput: stageCounter(
        "nv_inference_compute_input_duration_us",
        "Cumulative input preparation time, in µs",
      ),
      computeInfer: stageCounter(
        "nv_inference_compute_infer_duration_us",
        "Cumulative model execution time, in µs",
      ),
      computeOutput: stageCounter(
        "nv_inference_compute_output_duration_us",
        "Cumulative output extraction time, in µs",
      ),
    };
    const histogramRegisters = options.histogramLatencies ? registers : [];
    const histogram = (name: string, help: string, buckets: number[]) =>
      new Histogram({ name, help, labelNames: MODEL_LABELS, buckets, registers: histogramRegisters });
    this.histograms = {
      request: histogram(
        "ferry_inference_request_duration_us",
        "End-to-end request time, in µs",
        LATENCY_BUCKETS_US,
      ),
      queue: histogram(
        "ferry_inference_queue_duration_us",
        "Time a request spent queued, in µs",
        LATENCY_BUCKETS_US,
      ),
      computeInput: histogram(
        "ferry_inference_compute_input_duration_us",
        "Input preparation time, in µs",
        LATENCY_BUCKETS_US,
      ),
      computeInfer: histogram(
        "ferry_inference_compute_infer_duration_us",
        "Model execution time, in µs",
        LATENCY_BUCKETS_US,
      ),
      computeOutput: histogram(
        "ferry_inference_compute_output_duration_us",
        "Output extraction time, in µs",
        LATENCY_BUCKETS_US,
      ),
    };
    const quantiles = options.summaryLatencies;
    const summary = (name: string, help: string) =>
      new Summary({
        name,
        help,
        labelNames: MODEL_LABELS,
        // prom-client keeps a t-digest per series; the error bounds of --metrics-config apply to Triton's estimator only.
        percentiles: (quantiles ?? []).map(({ quantile }) => quantile),
        registers,
      });
    this.summaries = quantiles
      ? {
          request: summary(
            "nv_inference_request_summary_us",
            "Summary of inference request duration in microseconds",
          ),
          queue: summary(
            "nv_inference_queue_summary_us",
            "Summary of inference queuing duration in microseconds",
          ),
          computeInput: summary(
            "nv_inference_compute_input_summary_us",
            "Summary of compute input duration in microseconds",
          ),
          computeInfer: summary(
            "nv_inference_compute_infer_summary_us",
            "Summary of compute model duration in microseconds",
          ),
          computeOutput: summary(
            "nv_inference_compute_output_summary_us",
            "Summary of compute output duration in microseconds",
          ),
        }
      : undefined;
    this.batchSize = histogram(
      "ferry_inference_batch_size",
      "Batch size of each model execution",
      BATCH_BUCKETS,
    );
    this.objective = new ObjectiveMetrics(registry);
  }

  /** The observer that records one model version's requests. */
  observerFor(model: string, version: string): InferenceObserver {
    const labels = { model, version };
    const success = this.success.labels(labels);
    const inferences = this.inferenceCount.labels(labels);
    const executions = this.execCount.labels(labels);
    const pending = this.pending.labels(labels);
    const batchSize = this.batchSize.labels(labels);
    const stages = STAGES.map((stage) => ({
      stage,
      counter: this.options.counterLatencies ? this.durations[stage].labels(labels) : undefined,
      histogram: this.options.histogramLatencies ? this.histograms[stage].labels(labels) : undefined,
      summary: this.summaries?.[stage].labels(labels),
    }));
    // Series exist at 0 from load on, as in tritonserver, so dashboards see them before traffic.
    pending.set(0);
    for (const child of [success, inferences, executions]) child.inc(0);
    for (const { counter } of stages) counter?.inc(0);
    return {
      queued: () => pending.inc(),
      dequeued: () => pending.dec(),
      executed: (size: number) => {
        executions.inc();
        if (this.options.histogramLatencies) batchSize.observe(size);
      },
      succeeded: (size: number, clock: StageClock) => {
        success.inc();
        inferences.inc(size);
        const durations = clock.durationsUs();
        for (const { stage, counter, histogram, summary } of stages) {
          counter?.inc(durations[stage]);
          histogram?.observe(durations[stage]);
          summary?.observe(durations[stage]);
        }
      },
      failed: (reason: FailureReason) => this.failure.labels({ ...labels, reason }).inc(),
      ...this.objective.eventsFor(model, version),
    };
  }

  /** nv_model_load_duration_secs and ferry_model_warmup_duration_seconds of a version that became ready. */
  recordLoad(model: string, version: string, seconds: { load: number; warmup: number }): void {
    this.loadDuration.labels({ model, version }).set(seconds.load);
    this.warmupDuration.labels({ model, version }).set(seconds.warmup);
  }

  /** ferry_runtime_mismatch_total: a version loaded on another runtime than promoted, and served. */
  recordRuntimeMismatch(model: string, version: string): void {
    this.runtimeMismatches.labels({ model, version }).inc();
  }

  /** ferry_model_load_failures_total; version "" when the model failed before any version was named. */
  recordLoadFailure(model: string, version: string): void {
    this.loadFailures.labels({ model, version }).inc();
  }
}

type Stage = "request" | "queue" | "computeInput" | "computeInfer" | "computeOutput";
const STAGES: Stage[] = ["request", "queue", "computeInput", "computeInfer", "computeOutput"];
