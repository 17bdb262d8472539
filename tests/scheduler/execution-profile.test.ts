import { describe, expect, it } from "bun:test";
import { ExecutionProfile, normalQuantile } from "../../src/scheduler/execution-profile.ts";

describe("ExecutionProfile", () => {
  it("knows nothing before an execution", () => {
    expect(new ExecutionProfile(8, 99).predict(1)).toBeUndefined();
  });

  it("predicts the mean at the median and more at a high percentile when executions vary", () => {
    const median = new ExecutionProfile(8, 50);
    const p99 = new ExecutionProfile(8, 99);
    for (const ms of [9, 11, 9, 11, 9, 11, 9, 11]) {
      median.record(2, ms);
      p99.record(2, ms);
    }
    expect(median.predict(2)).toBeCloseTo(10, 0);
    expect(p99.predict(2) as number).toBeGreaterThan(11);
    expect(p99.predict(2) as number).toBeLessThan(14);
  });

  it("predicts along the line through the sizes it saw", () => {
    const profile = new ExecutionProfile(16, 50);
    profile.record(2, 4);
    profile.record(4, 6);
    expect(profile.predict(3)).toBeCloseTo(5, 5);
    expect(profile.predict(8)).toBeCloseTo(10, 5);
    expect(profile.predict(1)).toBeCloseTo(3, 5);
  });

  it("weighs each size by how often it was seen, so a rare noisy size does not bend the line", () => {
    const profile = new ExecutionProfile(16, 50);
    for (let i = 0; i < 10; i++) {
      profile.record(1, 2.1);
      profile.record(8, 2.8);
    }
    profile.record(4, 9); // one slow outlier
    expect(profile.predict(4) as number).toBeLessThan(3.5);
    const fit = profile.fit();
    expect(fit?.perElementMs as number).toBeGreaterThan(0);
  });

  it("assumes no amortisation from a single size seen", () => {
    const profile = new ExecutionProfile(16, 50);
    profile.record(2, 4);
    expect(profile.predict(8)).toBeCloseTo(16, 5);
    expect(profile.predict(1)).toBeCloseTo(4, 5);
  });

  it("follows a change in execution time within a few dozen executions", () => {
    const profile = new ExecutionProfile(4, 50);
    for (let i = 0; i < 100; i++) profile.record(1, 10);
    for (let i = 0; i < 30; i++) profile.record(1, 20);
    expect(profile.predict(1) as number).toBeGreaterThan(19);
  });

  it("lists what it observed in µs", () => {
    const profile = new ExecutionProfile(4, 50);
    profile.record(3, 1.5);
    expect(profile.observed()).toEqual([{ size: 3, samples: 1, meanUs: 1500, predictedUs: 1500 }]);
  });
});

it("normalQuantile: 0 at the median, ±2.33 at 1 % and 99 %", () => {
  expect(normalQuantile(0.5)).toBeCloseTo(0, 3);
  expect(normalQuantile(0.99)).toBeCloseTo(2.326, 2);
  expect(normalQuantile(0.01)).toBeCloseTo(-2.326, 2);
  expect(normalQuantile(0.9)).toBeCloseTo(1.2816, 2);
});
