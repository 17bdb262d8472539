import { failures, type VersionHealth, verdict } from "./checks.ts";
import { type CheckedVersion, PERIODIC_CHECKS, periodicChecks } from "./version-checks.ts";

/** A serving version as the monitor sees it: checkable, with its latest verdict to replace. */
export interface MonitoredVersion extends CheckedVersion {
  readonly name: string;
  readonly version: string;
  health: VersionHealth;
}

/**
 * Re-runs the synthetic and golden readiness checks of every serving version on a
 * schedule. A version that starts failing them stops counting as ready
 * (it keeps serving: its state stays READY), with the reason in the
 * verbose probe and the log; one that recovers counts again.
 */
export class HealthMonitor {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running = false;

  constructor(
    /** The versions serving now (the model table hands them over on each round). */
    private readonly serving: () => MonitoredVersion[],
    private readonly intervalMs: number,
    private readonly warn: (message: string) => void,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.checkAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round of checks over every serving version (also used by tests). */
  async checkAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const version of this.serving()) {
        const previous = version.health;
        const kept = previous.checks.filter((check) => !PERIODIC_CHECKS.includes(check.name));
        version.health = verdict([...kept, ...(await periodicChecks(version))]);
        if (previous.ready && !version.health.ready) {
          this.warn(
            `model '${version.name}' version ${version.version} is no longer ready: ${failures(version.health.checks)}`,
          );
        } else if (!previous.ready && version.health.ready) {
          this.warn(`model '${version.name}' version ${version.version} passes its readiness checks again`);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
