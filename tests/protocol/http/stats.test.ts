import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readJson } from "../../support/json.ts";
import { addSimple, TestRepository } from "../../support/model-repo.ts";
import { identityModel } from "../../support/onnx-builder.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

const repo = addSimple(new TestRepository()).addModel("batched", {
  config: `max_batch_size: 16
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [4] }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [4] }]
instance_group [{ kind: KIND_CPU count: 1 }]
dynamic_batching { max_queue_delay_microseconds: 20000 }`,
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

const infer = (model: string, body: unknown) =>
  fetch(`${server.url}/v2/models/${model}/infer`, { method: "POST", body: JSON.stringify(body) });
const ROW = [1, 2, 3, 4];

describe("statistics extension", () => {
  it("counts what was sent: successes, failures, inferences and executions", async () => {
    const simple = (rows: number) => {
      const data = new Array(16 * rows).fill(1);
      return {
        inputs: [
          { name: "INPUT0", shape: [rows, 16], datatype: "INT32", data },
          { name: "INPUT1", shape: [rows, 16], datatype: "INT32", data },
        ],
      };
    };
    for (const rows of [1, 2, 5]) expect((await infer("simple", simple(rows))).status).toBe(200);
    expect((await infer("simple", { inputs: [] })).status).toBe(400);
    const body = await readJson(await fetch(`${server.url}/v2/models/simple/versions/1/stats`));
    expect(body.model_stats).toHaveLength(1);
    const [stats] = body.model_stats;
    expect(stats.name).toBe("simple");
    expect(stats.version).toBe("1");
    expect(stats.inference_count).toBe(8);
    expect(stats.execution_count).toBe(3);
    expect(stats.inference_stats.success.count).toBe(3);
    expect(stats.inference_stats.success.ns).toBeGreaterThan(0);
    expect(stats.inference_stats.fail.count).toBe(1);
    for (const stage of ["queue", "compute_input", "compute_infer", "compute_output"]) {
      expect(stats.inference_stats[stage].count).toBe(3);
    }
    expect(stats.inference_stats.compute_infer.ns).toBeGreaterThan(0);
    expect(stats.batch_stats.map((entry: { batch_size: number }) => entry.batch_size)).toEqual([1, 2, 5]);
    expect(stats.batch_stats[2].compute_infer.count).toBe(1);
    expect(stats.last_inference).toBeGreaterThan(Date.now() - 60_000);
  });

  it("shows dynamic batching as fewer executions than inferences", async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        infer("batched", { inputs: [{ name: "INPUT0", shape: [1, 4], datatype: "FP32", data: ROW }] }),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect((await readJson(answer)).outputs[0].data).toEqual(ROW);
    }
    const [stats] = (await readJson(await fetch(`${server.url}/v2/models/batched/stats`))).model_stats;
    expect(stats.inference_count).toBe(12);
    expect(stats.inference_stats.success.count).toBe(12);
    expect(stats.execution_count).toBeLessThan(12);
    const executions = stats.batch_stats.reduce(
      (sum: number, entry: { compute_infer: { count: number } }) => sum + entry.compute_infer.count,
      0,
    );
    expect(executions).toBe(stats.execution_count);
  });

  it("lists every serving version of every model, and 404s an unknown model", async () => {
    const all = await readJson(await fetch(`${server.url}/v2/models/stats`));
    expect(all.model_stats.map((stats: { name: string }) => stats.name).sort()).toEqual([
      "batched",
      "simple",
    ]);
    expect((await fetch(`${server.url}/v2/models/nope/stats`)).status).toBe(404);
  });
});
