/**
 * Requests per millisecond, as an exponentially decaying count: each
 * arrival adds one, the count decays with time constant `tauMs`, and the
 * rate is count / tau. After a load step the estimate is within 1/e of the
 * new rate in one tau and within 2 % in four, with no timer of its own.
 */
export class ArrivalRate {
  private count = 0;
  private last = 0;

  constructor(private readonly tauMs = 200) {}

  record(now: number, arrivals = 1): void {
    this.count = this.decayed(now) + arrivals;
    this.last = now;
  }

  perMs(now: number): number {
    return this.decayed(now) / this.tauMs;
  }

  private decayed(now: number): number {
    if (this.count === 0) return 0;
    return this.count * Math.exp(-Math.max(0, now - this.last) / this.tauMs);
  }
}
