import { Gauge, type Registry } from "prom-client";

/** One model version as the repository index sees it, at scrape time. */
export interface ModelVersionState {
  model: string;
  version: string;
  /** READY, LOADING, UNLOADING or UNAVAILABLE. */
  state: string;
  /** Serves and passes its readiness checks. */
  ready: boolean;
  /** Its share of unversioned requests in percent (a promotion's canary split); absent when it takes none. */
  weightPercent?: number;
}

const STATES = ["READY", "LOADING", "UNLOADING", "UNAVAILABLE"];

/**
 * Readiness and promotion state per model version, read from the manager
 * when Prometheus scrapes (nothing to keep in step on the request path):
 * ferry_model_ready (1/0), ferry_model_state (1 for the version's current
 * state, 0 for the others, kube-state-metrics style) and
 * ferry_model_route_weight_percent (the canary split).
 */
export function registerModelStateMetrics(registry: Registry, versions: () => ModelVersionState[]): void {
  const registers = [registry];
  new Gauge({
    name: "ferry_model_ready",
    help: "1 when the model version serves and passes its readiness checks, else 0",
    labelNames: ["model", "version"],
    registers,
    collect() {
      this.reset();
      for (const { model, version, ready } of versions()) this.set({ model, version }, ready ? 1 : 0);
    },
  });
  new Gauge({
    name: "ferry_model_state",
    help: "1 for the model version's current state (READY, LOADING, UNLOADING, UNAVAILABLE), 0 for the others",
    labelNames: ["model", "version", "state"],
    registers,
    collect() {
      this.reset();
      for (const { model, version, state: current } of versions())
        for (const state of STATES) this.set({ model, version, state }, state === current ? 1 : 0);
    },
  });
  new Gauge({
    name: "ferry_model_route_weight_percent",
    help: "Share of unversioned requests routed to the model version, in percent (its promotion weight)",
    labelNames: ["model", "version"],
    registers,
    collect() {
      this.reset();
      for (const { model, version, weightPercent } of versions())
        if (weightPercent !== undefined) this.set({ model, version }, weightPercent);
    },
  });
}
