import type { ModelInstance } from "../../backends/backend.ts";
import { FerryError, invalidArgument } from "../../core/errors.ts";
import type { InferenceObserver } from "../../core/observer.ts";
import type { InferRequest, InferResponse } from "../../core/request.ts";
import { StageClock } from "../../core/stage-clock.ts";
import type { Tensor } from "../../core/tensor.ts";
import { batchRequest } from "../batch-request.ts";
import { decideBatch } from "../batch-rules.ts";
import { PendingRequest } from "../pending-request.ts";
import { ResponseOrder } from "../response-order.ts";
import type { Scheduler } from "../scheduler.ts";
import { Sequence, sequenceKey } from "./sequence.ts";
import type { SequenceSettings } from "./sequence-config.ts";
import { keepState, type Row, sequenceInputs } from "./sequence-rows.ts";
import { SlotTable } from "./slot-table.ts";

export interface SequenceBatcherOptions {
  model: string;
  version: string;
  instances: ModelInstance[];
  settings: SequenceSettings;
  /** max_batch_size > 0: rows are joined along a batch dimension. */
  batched: boolean;
  maxBatchSize: number;
  /** Client-visible outputs, produced when a request asks for none in particular. */
  allOutputs: string[];
  /** One row of each state input's initial value. */
  initialStates: ReadonlyMap<string, Tensor>;
  observer: InferenceObserver;
}

/**
 * Triton's sequence batcher. Every request names a sequence (correlation
 * id); a sequence holds one slot of one instance from its START to its END
 * or until it idles out, and its requests run in order, one at a time, with
 * the control tensors and implicit state injected. `direct` keeps each
 * sequence in its slot's batch row (empty slots are READY=0 rows); `oldest`
 * batches the oldest waiting requests of an instance's sequences.
 */
export class SequenceBatcher implements Scheduler {
  private readonly slots: SlotTable;
  private readonly sequences = new Map<string, Sequence>();
  private readonly busy: boolean[];
  private readonly waitTimers: (ReturnType<typeof setTimeout> | undefined)[];
  /** Why recently released sequences ended, for a clear error when a request still names one. */
  private readonly released = new Map<string, string>();
  private readonly order: ResponseOrder | undefined;
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: SequenceBatcherOptions) {
    const { instances, settings } = options;
    this.slots = new SlotTable(instances.length, settings.slotsPerInstance, settings.backlogLimit);
    this.busy = instances.map(() => false);
    this.waitTimers = instances.map(() => undefined);
    this.order = settings.preserveOrdering ? new ResponseOrder() : undefined;
  }

  enqueue(request: InferRequest, batchSize: number): Promise<InferResponse> {
    try {
      const sequence = this.sequenceFor(request, batchSize);
      const pending = new PendingRequest(request, batchSize);
      if (request.signal.aborted) {
        pending.fail(pending.cancelled());
        return pending.response;
      }
      request.timing.queued = performance.now();
      clearTimeout(sequence.idleTimer);
      sequence.queue.push(pending);
      if (!request.internal) this.options.observer.queued();
      this.order?.track(pending);
      request.signal.addEventListener("abort", () => this.cancel(sequence, pending), { once: true });
      this.schedule();
      return pending.response;
    } catch (error) {
      return Promise.reject(FerryError.from(error, "scheduler"));
    }
  }

  pendingCount(): number {
    let count = 0;
    for (const sequence of this.sequences.values()) count += sequence.queue.length;
    return count;
  }

  abort(error: FerryError): void {
    this.draining = true;
    for (const sequence of [...this.sequences.values()]) {
      for (const pending of sequence.queue.splice(0)) {
        this.left(pending);
        pending.fail(error);
      }
      for (const pending of sequence.runningRequests) pending.fail(error);
    }
    this.notifyIfIdle();
  }

  drain(): Promise<void> {
    this.draining = true;
    this.schedule();
    if (this.isIdle()) return Promise.resolve(this.clearIdleTimers());
    return new Promise((resolve) => this.idleWaiters.push(() => resolve(this.clearIdleTimers())));
  }

  /** The live sequence a request belongs to, starting one on sequence_start. */
  private sequenceFor(request: InferRequest, batchSize: number): Sequence {
    const { model } = this.options;
    if (this.draining)
      throw new FerryError(
        "UNAVAILABLE",
        "scheduler",
        `model '${model}' version ${this.options.version} is unloading`,
      );
    const control = request.sequence;
    if (!control) {
      throw invalidArgument(
        "scheduler",
        `model '${model}' batches sequences: each request needs a sequence_id (and sequence_start=true on its first)`,
      );
    }
    if (batchSize !== 1)
      throw invalidArgument(
        "scheduler",
        `model '${model}': a sequence request must have batch size 1, got ${batchSize}`,
      );
    const corrid = this.options.settings.controls.find((spec) => spec.role === "corrid");
    if (corrid && corrid.datatype !== "BYTES" && typeof control.id === "string") {
      throw invalidArgument(
        "scheduler",
        `model '${model}' takes numeric sequence ids (CORRID is ${corrid.datatype}), got '${control.id}'`,
      );
    }
    const key = sequenceKey(control.id);
    const existing = this.sequences.get(key);
    if (existing) return existing;
    const shown = typeof control.id === "string" ? `'${control.id}'` : String(control.id);
    if (!control.start) {
      const why = this.released.get(key);
      throw invalidArgument(
        "scheduler",
        why
          ? `sequence ${shown} of model '${model}' ${why}; start it again with sequence_start=true`
          : `sequence ${shown} of model '${model}' was never started: its first request needs sequence_start=true`,
      );
    }
    const sequence = new Sequence(key, control.id);
    if (!this.slots.assign(sequence) && !this.slots.wait(sequence)) {
      const { total, backlogLimit } = this.slots;
      throw new FerryError(
        "RESOURCE_EXHAUSTED",
        "scheduler",
        `model '${model}': all ${total} sequence slots are taken and ${backlogLimit} new sequences already wait for one`,
      );
    }
    this.released.delete(key);
    this.sequences.set(key, sequence);
    return sequence;
  }

  /** Starts an execution on every free instance that has work. */
  private schedule(): void {
    this.options.instances.forEach((instance, index) => {
      if (this.busy[index]) return;
      clearTimeout(this.waitTimers[index]);
      const rows = this.rowsFor(index);
      if (rows) this.run(instance, index, rows);
    });
    this.notifyIfIdle();
  }

  private rowsFor(instance: number): Row[] | undefined {
    const { settings } = this.options;
    const ready = this.slots.of(instance).flatMap((sequence, slot) => {
      const pending = sequence?.next();
      return sequence && pending ? [{ slot, row: { sequence, pending } }] : [];
    });
    const first = ready[0];
    if (!first) return undefined;
    const now = performance.now();
    if (settings.strategy === "oldest") {
      const byAge = ready.map((entry) => entry.row.pending).sort((a, b) => a.queuedAt - b.queuedAt);
      const rules = {
        batching: true,
        maxBatchSize: Math.max(1, this.options.maxBatchSize),
        preferredSizes: settings.preferredSizes,
        maxDelayMs: this.draining ? 0 : settings.maxDelayMs,
      };
      const decision = decideBatch(byAge, rules, now);
      if (decision.kind === "wait")
        this.waitTimers[instance] = setTimeout(() => this.schedule(), decision.until - now);
      if (decision.kind !== "run") return undefined;
      return decision.requests.map((pending) => ready.find((entry) => entry.row.pending === pending)?.row);
    }
    const sameShape = ready.filter((entry) => entry.row.pending.shapeKey === first.row.pending.shapeKey);
    const oldest = Math.min(...sameShape.map((entry) => entry.row.pending.queuedAt));
    const underUsed = sameShape.length < settings.minimumSlotUtilization * settings.slotsPerInstance;
    if (underUsed && !this.draining && now - oldest < settings.maxDelayMs) {
      this.waitTimers[instance] = setTimeout(() => this.schedule(), oldest + settings.maxDelayMs - now);
      return undefined;
    }
    if (!this.options.batched) return [first.row];
    const last = Math.max(...sameShape.map((entry) => entry.slot));
    return Array.from({ length: last + 1 }, (_, slot) => sameShape.find((entry) => entry.slot === slot)?.row);
  }

  private run(instance: ModelInstance, index: number, rows: Row[]): void {
    const { settings, observer } = this.options;
    this.busy[index] = true;
    const real = rows.filter((row): row is NonNullable<Row> => row !== undefined);
    for (const { sequence, pending } of real) {
      sequence.running = true;
      sequence.runningRequests.add(pending);
      sequence.queue.shift();
      this.left(pending);
    }
    const outputs = new Set(settings.states.map((state) => state.output));
    for (const { pending } of real) {
      for (const name of pending.request.outputs?.map((output) => output.name) ?? this.options.allOutputs)
        outputs.add(name);
    }
    const batch = {
      inputs: sequenceInputs(rows, settings, this.options.initialStates, this.options.batched),
      sizes: rows.map(() => 1),
      outputs: [...outputs],
      clocks: rows.map((row) => row?.pending.request.timing ?? new StageClock()),
      requests: rows.map(
        (row) =>
          row &&
          batchRequest(
            row.pending.request,
            this.options.allOutputs,
            settings.states.map((state) => state.output),
          ),
      ),
    };
    instance
      .execute(batch)
      .then(
        (results) => {
          if (real.some(({ pending }) => !pending.request.internal))
            observer.executed(rows.length, batch.clocks);
          rows.forEach((row, at) => {
            const result = results[at] ?? [];
            if (!row) return;
            if (result instanceof FerryError) this.afterRow(row, () => row.pending.fail(result));
            else this.finishRow(row, result);
          });
        },
        (error: unknown) => {
          const failure = FerryError.from(error, "backend");
          for (const row of real) this.afterRow(row, () => row.pending.fail(failure));
        },
      )
      .finally(() => {
        this.busy[index] = false;
        this.schedule();
      });
  }

  private finishRow(row: NonNullable<Row>, produced: Tensor[]): void {
    const { settings } = this.options;
    for (const state of settings.states) {
      const output = produced.find((tensor) => tensor.name === state.output);
      if (output) keepState(row.sequence, state.input, output);
    }
    const stateOutputs = new Set(settings.states.map((state) => state.output));
    const visible = produced.filter((tensor) => !stateOutputs.has(tensor.name));
    this.afterRow(row, () => row.pending.complete(this.options.model, this.options.version, visible));
  }

  /** Answers one row's request, then ends, idles or continues its sequence. */
  private afterRow({ sequence, pending }: NonNullable<Row>, answer: () => void): void {
    sequence.running = false;
    sequence.runningRequests.delete(pending);
    this.answer(pending, answer);
    const restarts = sequence.queue[0]?.request.sequence?.start === true;
    if (sequence.cancelled || (pending.request.sequence?.end && !restarts)) {
      this.release(sequence, sequence.cancelled ? "was cancelled" : "ended with sequence_end");
    } else if (sequence.queue.length === 0) {
      const idleMs = this.options.settings.idleMs;
      sequence.idleTimer = setTimeout(() => {
        if (!sequence.running && sequence.queue.length === 0) {
          this.release(
            sequence,
            `was released after ${idleMs * 1000} µs without requests (max_sequence_idle_microseconds)`,
          );
        }
      }, idleMs);
    }
  }

  /** Cancelling one request cancels what its sequence still has queued, and ends the sequence. */
  private cancel(sequence: Sequence, pending: PendingRequest): void {
    const at = sequence.queue.indexOf(pending);
    if (at < 0) return;
    for (const dropped of sequence.queue.splice(at)) {
      this.left(dropped);
      this.answer(dropped, () => dropped.fail(dropped.cancelled()));
    }
    if (sequence.running) sequence.cancelled = true;
    else this.release(sequence, "was cancelled");
    this.notifyIfIdle();
  }

  private release(sequence: Sequence, why: string): void {
    clearTimeout(sequence.idleTimer);
    if (this.sequences.get(sequence.key) !== sequence) return;
    this.sequences.delete(sequence.key);
    this.released.set(sequence.key, why);
    if (this.released.size > 4096) this.released.delete(this.released.keys().next().value as string);
    for (const dropped of sequence.queue.splice(0)) {
      this.left(dropped);
      const error = invalidArgument(
        "scheduler",
        `sequence ${sequence.describe()} of model '${this.options.model}' ${why}`,
      );
      this.answer(dropped, () => dropped.fail(error));
    }
    this.slots.free(sequence);
    this.schedule();
  }

  /** A request left the queue: pending -1, unless it is ferry's own readiness probe. */
  private left(pending: PendingRequest): void {
    if (!pending.request.internal) this.options.observer.dequeued();
  }

  private answer(pending: PendingRequest, deliver: () => void): void {
    if (this.order) this.order.settle(pending, deliver);
    else deliver();
  }

  private isIdle(): boolean {
    return this.pendingCount() === 0 && !this.busy.some(Boolean);
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private clearIdleTimers(): void {
    for (const sequence of this.sequences.values()) clearTimeout(sequence.idleTimer);
    for (const timer of this.waitTimers) clearTimeout(timer);
  }
}
