import { FerryError } from "../../core/errors.ts";

/** --http-max-inflight-bytes default: four bodies of the largest size accepted. */
export const INFLIGHT_BODIES = 4;

/** Refused for the moment because other requests' bodies fill the budget: 503 with Retry-After. */
export class BusyError extends FerryError {
  readonly retryAfterSecs = 1;
}

/**
 * Bounds the memory held by request bodies in progress (--http-max-inflight-bytes):
 * bytes as sent (from Content-Length, before reading, or as chunks arrive) and
 * as decompressed. Each request takes a Share and releases it when it is
 * answered, whatever the outcome.
 */
export class InflightBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  share(): Share {
    let held = 0;
    return {
      take: (bytes) => {
        // Alone, a request always fits: one body within --http-max-input-size is never refused forever.
        if (this.used > held && this.used + bytes > this.limit) {
          throw new BusyError(
            "UNAVAILABLE",
            "protocol",
            `request bodies in progress hold ${this.used} bytes; ${bytes} more would exceed the limit of ${this.limit} bytes (--http-max-inflight-bytes); retry later`,
          );
        }
        this.used += bytes;
        held += bytes;
      },
      release: () => {
        this.used -= held;
        held = 0;
      },
    };
  }

  /** Bytes held now (for tests). */
  get held(): number {
    return this.used;
  }
}

export interface Share {
  /** Counts `bytes` more against the budget, or throws BusyError. */
  take(bytes: number): void;
  release(): void;
}
