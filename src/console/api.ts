/**
 * The console's reads and writes over ferry's v2 REST API. Every request
 * carries the restricted-API header when the user entered one; without it
 * the server's own gates refuse what is restricted, the console adds none.
 */

import type { ModelMetadata } from "../core/model-metadata.ts";

/** The header `--http-restricted-api <groups>:<key>=<value>` asks for. */
export interface RestrictedKey {
  header: string;
  value: string;
}

export interface VersionReport {
  version: string;
  state: string;
  reason: string;
  ready: boolean;
  checks: { name: string; status: "PASS" | "WARN" | "FAIL" | "SKIP"; detail: string; durationMs: number }[];
}

export interface ModelReport {
  name: string;
  ready: boolean;
  expected: string[];
  versions: VersionReport[];
}

export interface ReadinessReport {
  ready: boolean;
  phase: string;
  models: ModelReport[];
}

export interface Duration {
  count: number;
  ns: number;
}

export interface ModelStatistics {
  name: string;
  version: string;
  inference_count: number;
  execution_count: number;
  inference_stats: { success: Duration; fail: Duration; queue: Duration; compute_infer: Duration };
  batch_stats: { batch_size: number; compute_infer: Duration }[];
}

export interface PromotionState {
  revision: number;
  promoted_by: string;
  promoted_at: string;
  note?: string;
  serving: { version: string; weight: number }[];
}

export interface ModelPromotion {
  name: string;
  routes: { version: string; weight: number }[];
  current?: PromotionState;
  history: PromotionState[];
}

export type { ModelMetadata, TensorMetadata } from "../core/model-metadata.ts";

export interface IndexRow {
  name: string;
  version?: string;
  state?: string;
  reason?: string;
}

export class ConsoleApi {
  constructor(
    readonly baseUrl: string,
    readonly key?: RestrictedKey,
  ) {}

  /** Headers for every call: the restricted-API key, when entered. */
  headers(): Record<string, string> {
    return this.key ? { [this.key.header]: this.key.value } : {};
  }

  /** The verbose ready probe answers 400 while not ready, with the same report. */
  readiness(): Promise<ReadinessReport> {
    return this.call("GET", "/v2/health/ready?verbose=true", undefined, [200, 400]);
  }

  async statistics(): Promise<ModelStatistics[]> {
    return (await this.call<{ model_stats: ModelStatistics[] }>("GET", "/v2/models/stats")).model_stats;
  }

  async promotions(): Promise<ModelPromotion[]> {
    return (await this.call<{ models: ModelPromotion[] }>("GET", "/v2/promotions")).models;
  }

  modelMetadata(model: string): Promise<ModelMetadata> {
    return this.call("GET", `/v2/models/${encodeURIComponent(model)}`);
  }

  repositoryIndex(): Promise<IndexRow[]> {
    return this.call("POST", "/v2/repository/index", {});
  }

  async load(model: string): Promise<void> {
    await this.call("POST", `/v2/repository/models/${encodeURIComponent(model)}/load`, {});
  }

  async unload(model: string): Promise<void> {
    await this.call("POST", `/v2/repository/models/${encodeURIComponent(model)}/unload`, {});
  }

  private async call<T>(method: string, path: string, body?: unknown, accepted = [200]): Promise<T> {
    const init: RequestInit = { method, headers: this.headers() };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { ...this.headers(), "content-type": "application/json" };
    }
    const response = await fetch(`${this.baseUrl}${path}`, init);
    const text = await response.text();
    if (!accepted.includes(response.status)) {
      const message = errorMessage(text) ?? response.statusText;
      throw new Error(`${method} ${path}: ${response.status} ${message}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

function errorMessage(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    return typeof parsed.error === "string" ? parsed.error : undefined;
  } catch {
    return text || undefined;
  }
}
