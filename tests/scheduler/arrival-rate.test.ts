import { expect, it } from "bun:test";
import { ArrivalRate } from "../../src/scheduler/arrival-rate.ts";

/** Arrivals every `everyMs` from `from` to `to` (ms). */
function feed(rate: ArrivalRate, from: number, to: number, everyMs: number): void {
  for (let at = from; at < to; at += everyMs) rate.record(at);
}

it("measures a steady rate", () => {
  const rate = new ArrivalRate();
  feed(rate, 0, 2000, 0.5);
  expect(rate.perMs(2000)).toBeCloseTo(2, 0);
});

it("follows a step up and back down within a second", () => {
  const rate = new ArrivalRate();
  feed(rate, 0, 2000, 10); // 0.1 per ms
  feed(rate, 2000, 3000, 1); // 1 per ms
  expect(rate.perMs(3000)).toBeGreaterThan(0.95);
  feed(rate, 3000, 4000, 10);
  expect(rate.perMs(4000)).toBeLessThan(0.11);
});

it("decays to nothing when arrivals stop", () => {
  const rate = new ArrivalRate();
  feed(rate, 0, 1000, 1);
  expect(rate.perMs(3000)).toBeLessThan(0.001);
});
