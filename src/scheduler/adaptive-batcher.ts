import type { ModelInstance } from "../backends/backend.ts";
import type { LatencyObjective } from "../config/latency-objective.ts";
import { FerryError } from "../core/errors.ts";
import { type AdaptiveDecision, decideAdaptive } from "./adaptive-batching.ts";
import { ArrivalRate } from "./arrival-rate.ts";
import type { BatchRules } from "./batch-rules.ts";
import { ExecutionProfile, type ObservedSize } from "./execution-profile.ts";
import type { InstancePool } from "./instance-pool.ts";
import type { PendingRequest } from "./pending-request.ts";

/** The verbose readiness view of a model version with a latency objective. */
export interface BatchingReport {
  latency_objective_ms: number;
  percentile: number;
  late_requests: "serve" | "reject";
  arrivals_per_second: number;
  target_batch_size: number;
  wait_us: number;
  /** Learned execution time per batch size, per instance kind ("cpu", "gpu"). */
  execution: Record<string, ObservedSize[]>;
  /** The line predictions follow per instance kind: fixed cost + cost per batch element, in µs. */
  execution_fit: Record<string, { fixed_us: number; per_element_us: number }>;
}

/**
 * What the dynamic batcher learns for a latency objective: the arrival
 * rate, and the execution time per batch size of each instance kind (CPU
 * and GPU instances of one model differ), fed by every execution.
 */
export class AdaptiveBatcher {
  private readonly arrivals = new ArrivalRate();
  private readonly profiles = new Map<string, ExecutionProfile>();
  private lastTarget = 1;
  private lastWaitUs = 0;

  constructor(
    readonly objective: LatencyObjective,
    private readonly maxBatchSize: number,
  ) {}

  arrived(now: number, batchSize: number): void {
    this.arrivals.record(now, batchSize);
  }

  executed(instance: ModelInstance, batchSize: number, ms: number): void {
    this.profileOf(instance).record(batchSize, ms);
  }

  decide(
    queue: Iterable<PendingRequest>,
    rules: BatchRules,
    now: number,
    pool: InstancePool,
  ): AdaptiveDecision {
    const profile = this.profileOf(pool.nextFree() as ModelInstance);
    const decision = decideAdaptive(queue, {
      now,
      objective: this.objective,
      rules,
      predict: (size) => profile.predict(size),
      expected: (size) => profile.expected(size),
      arrivalsPerMs: this.arrivals.perMs(now),
      instances: pool.instances.length,
      freeInstances: pool.freeCount(),
    });
    if (decision.kind === "run" || decision.kind === "wait") {
      this.lastTarget = decision.targetSize;
      this.lastWaitUs = decision.kind === "wait" ? Math.round((decision.until - now) * 1000) : 0;
    }
    return decision;
  }

  /** Why a late request is failed, naming the scheduler, the objective and the figures. */
  lateError(
    pending: PendingRequest,
    now: number,
    executionMs: number,
    answerMs: number,
    model: string,
    version: string,
  ) {
    const waited = now - pending.request.timing.received;
    return new FerryError(
      "UNAVAILABLE",
      "scheduler",
      `model '${model}' version ${version} cannot answer within its latency objective: waited ${waited.toFixed(1)} ms + predicted execution ${executionMs.toFixed(1)} ms + ${answerMs.toFixed(1)} ms for the answer > ${this.objective.objectiveMs} ms (parameters ferry.latency_objective_ms, ferry.late_requests: reject)`,
    );
  }

  /** Whether an answer given now met the objective. */
  withinObjective(pending: PendingRequest, now: number): boolean {
    return now - pending.request.timing.received <= this.objective.objectiveMs;
  }

  get lastDecision(): { targetSize: number; waitUs: number } {
    return { targetSize: this.lastTarget, waitUs: this.lastWaitUs };
  }

  report(): BatchingReport {
    const now = performance.now();
    return {
      latency_objective_ms: this.objective.objectiveMs,
      percentile: this.objective.percentile,
      late_requests: this.objective.lateRequests,
      arrivals_per_second: Math.round(this.arrivals.perMs(now) * 1000 * 10) / 10,
      target_batch_size: this.lastTarget,
      wait_us: this.lastWaitUs,
      execution: Object.fromEntries([...this.profiles].map(([kind, profile]) => [kind, profile.observed()])),
      execution_fit: Object.fromEntries(
        [...this.profiles].flatMap(([kind, profile]) => {
          const fit = profile.fit();
          if (!fit) return [];
          const us = (ms: number) => Math.round(ms * 10_000) / 10;
          return [[kind, { fixed_us: us(fit.fixedMs), per_element_us: us(fit.perElementMs) }]];
        }),
      ),
    };
  }

  private profileOf(instance: ModelInstance): ExecutionProfile {
    const kind = instance.device === "cpu" ? "cpu" : "gpu";
    let profile = this.profiles.get(kind);
    if (!profile) {
      profile = new ExecutionProfile(this.maxBatchSize, this.objective.percentile);
      this.profiles.set(kind, profile);
    }
    return profile;
  }
}
