import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { registerGpuMetrics } from "../../src/metrics/gpu-metrics.ts";
import type { Json } from "../support/json.ts";
import { addSimple, TestRepository } from "../support/model-repo.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

const dashboard = JSON.parse(
  readFileSync(join(import.meta.dir, "../../deploy/grafana/ferry-dashboard.json"), "utf8"),
) as Json;
const queries: string[] = [
  ...dashboard.panels.flatMap((panel: Json) => panel.targets.map((target: Json) => target.expr)),
  ...dashboard.templating.list.map((variable: Json) => variable.query),
];

/** Every series name an exposition text can carry: TYPE names, with a histogram's and summary's suffixes. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name as string);
    if (type === "histogram")
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${name}${suffix}`);
    if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(`${name}${suffix}`);
  }
  return names;
}

const repo = addSimple(new TestRepository());
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

describe("deploy/grafana/ferry-dashboard.json", () => {
  it("queries only metrics ferry exports, so the dashboard cannot silently drift", async () => {
    const text = await (await fetch(server.metricsUrl)).text();
    const exported = exportedNames(text);
    // GPU metrics exist only where nvidia-smi answers: take their names from the same code with a fake GPU.
    const gpu = new Registry();
    registerGpuMetrics(gpu, 60_000, () => [
      { uuid: "GPU-0", utilization: 0.5, memoryUsedBytes: 1, memoryTotalBytes: 2, powerWatts: 100 },
    ])();
    for (const name of exportedNames(await gpu.metrics())) exported.add(name);
    const used = new Set(queries.flatMap((query) => query.match(/\b(?:nv|ferry|process)_[a-z0-9_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it("shows what an operator needs: traffic, failures, latency and its stages, batching, queue, readiness, promotion, GPU", () => {
    const titles = dashboard.panels.map((panel: Json) => panel.title).join(" | ");
    for (const words of [
      "Requests per second",
      "Failures",
      "p50 / p99",
      "time goes",
      "Batch size",
      "Queue depth",
      "Readiness",
      "Promotion",
      "GPU utilisation",
      "GPU memory",
      "Latency objective",
      "Adaptive batching",
    ])
      expect(titles).toContain(words);
    for (const stage of ["queue", "compute_input", "compute_infer", "compute_output"])
      expect(queries.join("\n")).toContain(`nv_inference_${stage}_duration_us`);
  });

  it("imports into any Grafana: a Prometheus datasource input, a stable uid, every panel on it", () => {
    expect(dashboard.__inputs[0]).toMatchObject({ name: "DS_PROMETHEUS", pluginId: "prometheus" });
    expect(dashboard.uid).toBe("ferry-overview");
    for (const panel of dashboard.panels) expect(panel.datasource.uid).toBe(`$${"{DS_PROMETHEUS}"}`);
  });

  it("reports readiness and the promotion split per version as metrics", async () => {
    const text = await (await fetch(server.metricsUrl)).text();
    expect(text).toContain('ferry_model_ready{model="simple",version="1"} 1');
    expect(text).toContain('ferry_model_state{model="simple",version="1",state="READY"} 1');
    expect(text).toContain('ferry_model_state{model="simple",version="1",state="LOADING"} 0');
    expect(text).toContain('ferry_model_route_weight_percent{model="simple",version="1"} 100');
  });
});
