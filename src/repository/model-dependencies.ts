import { AsyncLocalStorage } from "node:async_hooks";
import { dependenciesOf } from "../config/dependencies.ts";
import { FerryError } from "../core/errors.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";
import type { CheckResult, VersionHealth } from "../health/checks.ts";
import type { ModelVersion } from "../serving/model-version.ts";
import type { Router } from "../serving/router.ts";

/**
 * The model table's view of models that run on other models — ensembles
 * and the models they compose, TypeScript models and the models they
 * declare they call (`ferry.calls`): loading one loads what it needs first
 * (as Triton does for ensembles), and it serves only while every one of
 * them does — unloading one makes it UNAVAILABLE with that reason, loading
 * it again brings it back, with nothing to reload.
 */
export class ModelDependencies {
  /** The models whose loads led to the current one: a model met twice is a cycle. */
  private readonly chain = new AsyncLocalStorage<readonly string[]>();

  constructor(
    private readonly router: Router,
    private readonly isServing: (model: string) => boolean,
    private readonly load: (model: string) => Promise<unknown>,
  ) {}

  /** Loads each model a config runs on that does not serve yet. */
  async loadComposing(name: string, config: ModelConfig): Promise<void> {
    const needed = dependenciesOf(config);
    if (needed.length === 0) return;
    const chain = [...(this.chain.getStore() ?? []), name];
    for (const model of new Set(needed.map((dependency) => dependency.model))) {
      if (chain.includes(model)) {
        throw new FerryError(
          "INVALID_ARGUMENT",
          "config",
          `model '${name}' runs on '${model}', which runs on it in turn: ${[...chain, model].map((entry) => `'${entry}'`).join(" → ")}`,
        );
      }
      if (!this.isServing(model)) await this.chain.run(chain, () => this.load(model).catch(() => undefined));
    }
  }

  /** Why an ensemble version cannot serve now (a composing model that does not), else undefined. */
  problem(version: ModelVersion): string | undefined {
    for (const step of version.composing) {
      try {
        this.router.resolve(step.model, step.version);
      } catch (error) {
        return `composing model '${step.model}' is not available: ${FerryError.from(error, "repository").detail}`;
      }
    }
    return undefined;
  }

  /** An ensemble version's verdict with a `composing_models` check: ready only while they all are. */
  health(version: ModelVersion): VersionHealth {
    if (version.composing.length === 0) return version.health;
    const started = performance.now();
    const notReady = version.composing.flatMap((step) => {
      try {
        const served = this.router.resolve(step.model, step.version);
        const composed = this.health(served);
        return composed.ready ? [] : [`'${step.model}' version ${served.version} is not ready`];
      } catch (error) {
        return [`'${step.model}': ${FerryError.from(error, "repository").detail}`];
      }
    });
    const check: CheckResult = {
      name: "composing_models",
      status: notReady.length === 0 ? "PASS" : "FAIL",
      detail:
        notReady.length === 0
          ? `${[...new Set(version.composing.map((step) => `'${step.model}'`))].join(", ")} ready`
          : notReady.join("; "),
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    };
    const checks = [...version.health.checks.filter((kept) => kept.name !== check.name), check];
    return { ...version.health, checks, ready: version.health.ready && check.status === "PASS" };
  }
}
