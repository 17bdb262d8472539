import type { Logger } from "../core/log.ts";
import type { ModelManager } from "./model-manager.ts";

/** The repository as the server last saw it, for the verbose readiness view. */
export interface RepositoryStatus {
  /** The --model-repository locations. */
  locations: string[];
  /** When a pass last listed the repository (ISO time), if ever. */
  last_listed_at: string | null;
  /** The failure of the last pass that failed, if any since the last clean pass. */
  last_error: string | null;
  last_error_at: string | null;
  /** Whether the last pass loaded everything it listed: the server serves what it last saw. */
  in_sync: boolean;
  /** Passes failed in a row. */
  failures_in_a_row: number;
}

export interface PollerOptions {
  /** Which models to keep in line: the whole repository, or --load-model's list. */
  models(): Promise<string[]>;
  /** Poll mode: keep polling every `intervalMs` and unload models that left the repository. */
  keepPolling: boolean;
  intervalMs: number;
  /** Longest wait between retries after failures (default max(interval, 30 s)). */
  maxBackoffMs?: number;
  /** How many models sync at once (default 4). */
  concurrency?: number;
  log: Logger;
  /** Where the models come from, for the status view. */
  locations?: string[];
}

/**
 * Keeps the model manager in line with the repository. At start-up (every
 * mode) it loads the initial models, retrying with backoff while the
 * repository cannot be listed or a model's source is unreachable; in poll
 * mode it then goes on every interval: loads new and changed models,
 * unloads removed ones. A failed pass never touches what serves.
 *
 * Models sync independently: a poll pass waits at most one interval (at
 * least 1 s), and a model still syncing then (a slow or stalled download)
 * is left running and skipped by later passes until it finishes, so it
 * never holds up the others. stop() returns at once, waiting for none.
 */
export class RepositoryPoller {
  /** True once a pass has listed the repository and tried every model. */
  listed = false;
  /** True once a pass left nothing to retry. */
  settled = false;
  private failures = 0;
  /** The failure last logged: the same one again is not repeated on every retry. */
  private lastFailure: string | undefined;
  private lastListedAt: string | null = null;
  private lastError: { message: string; at: string } | null = null;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  /** Models whose sync is still running, possibly from an earlier pass. */
  private readonly busy = new Map<string, Promise<boolean>>();
  private readonly slots: (() => void)[] = [];
  private running = 0;
  private halt: () => void = () => {};
  private readonly halted = new Promise<void>((resolve) => {
    this.halt = resolve;
  });

  constructor(
    private readonly manager: ModelManager,
    private readonly options: PollerOptions,
  ) {}

  /** Runs one pass now; resolves once it finished (whatever its outcome). */
  async firstPass(): Promise<void> {
    await this.pass(undefined);
  }

  /** Keeps passing in the background: forever in poll mode, else until settled. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops at once: a pass in progress is abandoned, syncs still running are not waited for. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.halt();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped && (this.options.keepPolling || !this.settled)) {
      await this.sleep(this.nextDelayMs());
      if (this.stopped) return;
      await this.pass(Math.max(this.options.intervalMs, 1000));
    }
  }

  /** One pass, waiting at most `deadlineMs` for the models; false when something is left to retry. */
  private async pass(deadlineMs: number | undefined): Promise<boolean> {
    let names: string[];
    try {
      names = await this.options.models();
    } catch (error) {
      this.failed(`cannot list the model repository: ${message(error)}`);
      return false;
    }
    this.listed = true;
    this.lastListedAt = new Date().toISOString();
    const outcomes = new Map<string, boolean>();
    const started = names.map((name) =>
      this.sync(name).then((settled) => {
        outcomes.set(name, settled);
      }),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline =
      deadlineMs === undefined
        ? []
        : [new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))];
    await Promise.race([Promise.all(started), this.halted, ...deadline]);
    clearTimeout(timer);
    if (this.stopped) return false;
    const retry = [...outcomes.values()].filter((settled) => !settled).length;
    const pending = names.length - outcomes.size;
    if (this.options.keepPolling) await this.unloadRemoved(names);
    if (retry > 0) {
      this.failed(`${retry} model(s) could not be read from the repository`);
      return false;
    }
    if (pending > 0) return false;
    if (this.failures > 0) this.options.log.info("model repository reachable again");
    this.failures = 0;
    this.lastFailure = undefined;
    this.lastError = null;
    this.settled = true;
    return true;
  }

  /** Syncs a model, or joins its sync still running; at most `concurrency` at once. Never rejects. */
  private sync(name: string): Promise<boolean> {
    let running = this.busy.get(name);
    if (!running) {
      running = this.withSlot(() => this.manager.syncModel(name))
        .catch((error) => {
          this.options.log.warn(`model '${name}': ${message(error)}`);
          return false;
        })
        .finally(() => this.busy.delete(name));
      this.busy.set(name, running);
    }
    return running;
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= (this.options.concurrency ?? 4))
      await new Promise<void>((resolve) => this.slots.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.slots.shift();
      if (next) next();
      else this.running--;
    }
  }

  private async unloadRemoved(names: string[]): Promise<void> {
    const present = new Set(names);
    for (const name of this.manager.knownModels()) {
      if (present.has(name) || !this.manager.isRequired(name)) continue;
      this.options.log.info(`model '${name}' left the repository: unloading`);
      await this.manager.unloadModel(name);
    }
  }

  /** Where the repository stands: last listing, last failure, whether what serves is what it last saw. */
  status(): RepositoryStatus {
    return {
      locations: this.options.locations ?? [],
      last_listed_at: this.lastListedAt,
      last_error: this.lastError?.message ?? null,
      last_error_at: this.lastError?.at ?? null,
      in_sync: this.listed && this.failures === 0,
      failures_in_a_row: this.failures,
    };
  }

  private failed(why: string): void {
    this.failures++;
    this.lastError = { message: why, at: new Date().toISOString() };
    if (why === this.lastFailure) return;
    this.lastFailure = why;
    this.options.log.error(
      `${why} (attempt ${this.failures}; retrying in ${(this.nextDelayMs() / 1000).toFixed(1)}s, serving what is loaded meanwhile)`,
    );
  }

  /** The poll interval when all is well; after failures 1 s, 2 s, 4 s … up to the cap. */
  private nextDelayMs(): number {
    if (this.failures === 0) return this.options.intervalMs;
    const cap = this.options.maxBackoffMs ?? Math.max(this.options.intervalMs, 30_000);
    return Math.min(1000 * 2 ** (this.failures - 1), cap);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
