import { Counter, Gauge, type Registry } from "prom-client";
import type { InferenceObserver } from "../core/observer.ts";

type ObjectiveEvents = Required<
  Pick<InferenceObserver, "objectiveSet" | "batchingDecided" | "objectiveOutcome" | "rejectedLate">
>;

/**
 * The latency objective's metrics (ferry's own; Triton has none): the
 * objective, the adaptive batcher's current wait and target batch size,
 * answers within and over the objective (goodput), early rejections. Series
 * exist only for models with an objective.
 */
export class ObjectiveMetrics {
  private readonly objective: Gauge<"model" | "version" | "percentile">;
  private readonly wait: Gauge<"model" | "version">;
  private readonly target: Gauge<"model" | "version">;
  private readonly outcomes: Counter<"model" | "version" | "outcome">;
  private readonly rejections: Counter<"model" | "version">;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ["model", "version"] as const;
    this.objective = new Gauge({
      name: "ferry_latency_objective_ms",
      help: "The model's latency objective (ferry.latency_objective_ms) at its percentile, arrival to answer, in ms",
      labelNames: [...labelNames, "percentile"],
      registers,
    });
    this.wait = new Gauge({
      name: "ferry_batching_wait_us",
      help: "The adaptive batcher's latest wait for a larger batch, in µs (0: it ran at once)",
      labelNames,
      registers,
    });
    this.target = new Gauge({
      name: "ferry_batching_target_size",
      help: "The batch size the adaptive batcher aims for at the current arrival rate",
      labelNames,
      registers,
    });
    this.outcomes = new Counter({
      name: "ferry_latency_objective_requests_total",
      help: "Requests answered within the latency objective (goodput) or over it, timed from arrival to the model's answer",
      labelNames: [...labelNames, "outcome"],
      registers,
    });
    this.rejections = new Counter({
      name: "ferry_latency_objective_rejections_total",
      help: "Requests rejected early (ferry.late_requests: reject): their wait plus the predicted execution exceeded the objective",
      labelNames,
      registers,
    });
  }

  /** The objective events of one model version (label children looked up once: these run per request). */
  eventsFor(model: string, version: string): ObjectiveEvents {
    const labels = { model, version };
    const wait = this.wait.labels(labels);
    const target = this.target.labels(labels);
    const within = this.outcomes.labels({ ...labels, outcome: "within" });
    const over = this.outcomes.labels({ ...labels, outcome: "over" });
    const rejections = this.rejections.labels(labels);
    let lastWaitUs = -1;
    let lastTarget = -1;
    return {
      objectiveSet: (objectiveMs, percentile) => {
        this.objective.labels({ ...labels, percentile: String(percentile) }).set(objectiveMs);
        wait.set(0);
        target.set(1);
        within.inc(0);
        over.inc(0);
        rejections.inc(0);
      },
      batchingDecided: (waitUs, targetSize) => {
        if (waitUs !== lastWaitUs) wait.set(waitUs);
        if (targetSize !== lastTarget) target.set(targetSize);
        lastWaitUs = waitUs;
        lastTarget = targetSize;
      },
      objectiveOutcome: (met) => (met ? within : over).inc(),
      rejectedLate: () => rejections.inc(),
    };
  }
}
