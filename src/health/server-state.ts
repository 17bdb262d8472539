import { FerryError } from "../core/errors.ts";

export type Phase = "INITIALIZING" | "READY" | "EXITING";

/**
 * The server's lifecycle as the health endpoints report it: live from the
 * first answer, ready per `readinessCheck`, exiting once shutdown began.
 */
export class ServerState {
  phase: Phase = "INITIALIZING";

  constructor(private readonly readinessCheck: () => boolean) {}

  isReady(): boolean {
    return this.phase === "READY" && this.readinessCheck();
  }

  assertNotExiting(): void {
    if (this.phase === "EXITING") throw new FerryError("UNAVAILABLE", "protocol", "Server exiting");
  }

  assertAcceptingInference(): void {
    this.assertNotExiting();
  }
}
