/** One serving version's share of unversioned requests. */
export interface Route {
  version: number;
  weight: number;
}

/**
 * Splits unversioned requests across versions by weight with smooth
 * weighted round-robin: deterministic, and over any run of `total` picks
 * each version gets exactly its share (a 10% canary sees every tenth
 * request, not a random tenth).
 */
export class WeightedRoutes {
  private readonly credit = new Map<number, number>();

  constructor(readonly routes: readonly Route[]) {}

  /** The next version among those `available` (weights renormalised over them), or undefined. */
  pick(available: (version: number) => boolean): number | undefined {
    const live = this.routes.filter((route) => route.weight > 0 && available(route.version));
    if (live.length === 1) return live[0]?.version;
    const total = live.reduce((sum, route) => sum + route.weight, 0);
    let best: Route | undefined;
    for (const route of live) {
      const credit = (this.credit.get(route.version) ?? 0) + route.weight;
      this.credit.set(route.version, credit);
      if (!best || credit > (this.credit.get(best.version) ?? 0)) best = route;
    }
    if (!best) return undefined;
    this.credit.set(best.version, (this.credit.get(best.version) ?? 0) - total);
    return best.version;
  }

  /** "2:90, 3:10" for logs. */
  describe(): string {
    return this.routes.map((route) => `${route.version}:${route.weight}`).join(", ");
  }
}
