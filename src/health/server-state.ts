import { FerryError } from "../core/errors.ts";

/**
 * INITIALIZING: live, not ready (models loading). READY. DRAINING: a
 * shutdown signal arrived — not ready, so load balancers stop sending, but
 * requests are still served for the grace period. EXITING: new inference
 * is refused and health answers "Server exiting" while work finishes.
 */
export type Phase = "INITIALIZING" | "READY" | "DRAINING" | "EXITING";

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
