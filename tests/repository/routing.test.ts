import { describe, expect, it } from "bun:test";
import { WeightedRoutes } from "../../src/repository/routing.ts";

const count = (routes: WeightedRoutes, picks: number, available = (_: number) => true) => {
  const seen = new Map<number, number>();
  for (let i = 0; i < picks; i++) {
    const version = routes.pick(available);
    if (version !== undefined) seen.set(version, (seen.get(version) ?? 0) + 1);
  }
  return Object.fromEntries(seen);
};

describe("WeightedRoutes", () => {
  it("gives each version exactly its share of every 100 picks", () => {
    const routes = new WeightedRoutes([
      { version: 1, weight: 90 },
      { version: 2, weight: 10 },
    ]);
    expect(count(routes, 100)).toEqual({ 1: 90, 2: 10 });
    expect(count(routes, 100)).toEqual({ 1: 90, 2: 10 });
  });

  it("spreads the canary out instead of sending it a burst", () => {
    const routes = new WeightedRoutes([
      { version: 1, weight: 75 },
      { version: 2, weight: 25 },
    ]);
    const picks = Array.from({ length: 8 }, () => routes.pick(() => true));
    expect(picks.filter((version) => version === 2)).toHaveLength(2);
    expect(picks.slice(0, 4).filter((version) => version === 2)).toHaveLength(1);
  });

  it("renormalises over available versions and skips weight 0", () => {
    const routes = new WeightedRoutes([
      { version: 1, weight: 50 },
      { version: 2, weight: 50 },
      { version: 3, weight: 0 },
    ]);
    expect(count(routes, 10, (version) => version !== 1)).toEqual({ 2: 10 });
    expect(routes.pick((version) => version === 3)).toBeUndefined();
    expect(routes.describe()).toBe("1:50, 2:50, 3:0");
  });
});
