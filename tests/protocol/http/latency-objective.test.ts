import { afterAll, beforeAll, expect, it } from "bun:test";
import { readJson } from "../../support/json.ts";
import { TestRepository } from "../../support/model-repo.ts";
import { identityModel } from "../../support/onnx-builder.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

const config = (name: string, parameters: string) => `name: "${name}"
max_batch_size: 16
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [4] }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [4] }]
instance_group [{ kind: KIND_CPU count: 1 }]
dynamic_batching { max_queue_delay_microseconds: 20000 }
${parameters}`;
const objective = (value: string) =>
  `parameters { key: "ferry.latency_objective_ms" value { string_value: "${value}" } }`;

const repo = new TestRepository()
  .addModel("fast", {
    config: config("fast", objective("50")),
    versions: { 1: identityModel("FP32", ["b", 4]) },
  })
  .addModel("misconfigured", {
    config: config("misconfigured", objective("soon")),
    versions: { 1: identityModel("FP32", ["b", 4]) },
  });
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

const infer = () =>
  fetch(`${server.url}/v2/models/fast/infer`, {
    method: "POST",
    body: JSON.stringify({
      inputs: [{ name: "INPUT0", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }],
    }),
  });

it("answers at once (no 20 ms fixed wait), and the verbose readiness view shows the learned execution times", async () => {
  for (let i = 0; i < 5; i++) expect((await infer()).status).toBe(200);
  const report = await readJson(await fetch(`${server.url}/v2/health/ready?verbose=true`));
  const fast = report.models.find((model: { name: string }) => model.name === "fast");
  const batching = fast.versions[0].batching;
  expect(batching).toMatchObject({ latency_objective_ms: 50, percentile: 99, late_requests: "serve" });
  // The readiness checks' own inference counts too: it ran through the same batcher.
  expect(batching.execution.cpu[0].size).toBe(1);
  expect(batching.execution.cpu[0].samples).toBeGreaterThanOrEqual(5);
  expect(batching.execution.cpu[0].meanUs).toBeGreaterThan(0);
  expect(batching.execution_fit.cpu.fixed_us).toBeGreaterThan(0);
  const stats = await readJson(await fetch(`${server.url}/v2/models/fast/stats`));
  // The statistics extension is unchanged: the queue time shows no 20 ms wait.
  const queue = stats.model_stats[0].inference_stats.queue;
  expect(queue.ns / queue.count).toBeLessThan(20_000_000);
});

it("exports the objective, the batcher's choice and the answers within it as metrics", async () => {
  const text = await (await fetch(server.metricsUrl)).text();
  expect(text).toContain('ferry_latency_objective_ms{model="fast",version="1",percentile="99"} 50');
  expect(text).toMatch(
    /ferry_latency_objective_requests_total\{model="fast",version="1",outcome="within"\} [1-9]/,
  );
  expect(text).toContain('ferry_latency_objective_rejections_total{model="fast",version="1"} 0');
  expect(text).toContain('ferry_batching_target_size{model="fast",version="1"}');
  expect(text).toContain('ferry_batching_wait_us{model="fast",version="1"}');
});

it("refuses to load a model whose objective is malformed, naming the parameter", async () => {
  const index = await readJson(await fetch(`${server.url}/v2/repository/index`, { method: "POST" }));
  const entry = index.find((model: { name: string }) => model.name === "misconfigured");
  expect(entry.state).toBe("UNAVAILABLE");
  expect(entry.reason).toContain(
    "parameters['ferry.latency_objective_ms']: must be a number of milliseconds > 0, got 'soon'",
  );
});
