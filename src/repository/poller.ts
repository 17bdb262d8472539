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

  constructor(
    private readonly manager: ModelManager,
    private readonly options: PollerOptions,
  ) {}

  /** Runs one pass now; resolves once it finished (whatever its outcome). */
  async firstPass(): Promise<void> {
    await this.pass();
  }

  /** Keeps passing in the background: forever in poll mode, else until settled. */
  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped && (this.options.keepPolling || !this.settled)) {
      await this.sleep(this.nextDelayMs());
      if (this.stopped) return;
      await this.pass();
    }
  }

  /** One pass; false when something is left to retry. */
  private async pass(): Promise<boolean> {
    let names: string[];
    try {
      names = await this.options.models();
    } catch (error) {
      this.failed(`cannot list the model repository: ${message(error)}`);
      return false;
    }
    this.listed = true;
    this.lastListedAt = new Date().toISOString();
    let retry = 0;
    for (const name of names) {
      try {
        if (!(await this.manager.syncModel(name))) retry++;
      } catch (error) {
        retry++;
        this.options.log.warn(`model '${name}': ${message(error)}`);
      }
    }
    if (this.options.keepPolling) await this.unloadRemoved(names);
    if (retry > 0) {
      this.failed(`${retry} model(s) could not be read from the repository`);
      return false;
    }
    if (this.failures > 0) this.options.log.info("model repository reachable again");
    this.failures = 0;
    this.lastFailure = undefined;
    this.lastError = null;
    this.settled = true;
    return true;
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
