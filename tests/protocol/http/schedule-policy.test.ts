import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mlpModel } from "../../../bench/mlp.ts";
import { readJson } from "../../support/json.ts";
import { TestRepository } from "../../support/model-repo.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";
import { until } from "../../support/until.ts";
import { encodeBinaryRequest } from "../../support/v2-binary.ts";

const WIDTH = 1024;
const TENSORS = `input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [${WIDTH}] }] output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [${WIDTH}] }]
instance_group [{ kind: KIND_CPU count: 1 }]`;
// A model slow enough (a few ms at batch 64) that requests pile up behind it.
const model = mlpModel(WIDTH, 3);
const repo = new TestRepository()
  .addModel("bounded", {
    config: `max_batch_size: 64 ${TENSORS} dynamic_batching { default_queue_policy { max_queue_size: 1 } }`,
    versions: { 1: model },
  })
  .addModel("timed", {
    config: `max_batch_size: 64 ${TENSORS}
      dynamic_batching { default_queue_policy { allow_timeout_override: true } }`,
    // Slower (twelve layers sharing one weight matrix): a backlog that lasts while the hurried one arrives.
    versions: { 1: mlpModel(WIDTH, 12, 42, true) },
  });
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

/** Binary tensors keep decoding short, so requests reach the queue in the order they were sent. */
function infer(name: string, rows: number, parameters: Record<string, unknown> = {}) {
  const { body, headerLength } = encodeBinaryRequest(
    [{ name: "INPUT0", datatype: "FP32", shape: [rows, WIDTH], bytes: new Uint8Array(rows * WIDTH * 4) }],
    { parameters },
  );
  return fetch(`${server.url}/v2/models/${name}/infer`, {
    method: "POST",
    body,
    headers: { "inference-header-content-length": String(headerLength) },
  });
}

describe("schedule policy over HTTP", () => {
  it("answers 503 'Exceeds maximum queue size' when the queue is full, and serves the rest", async () => {
    const answers = await Promise.all(Array.from({ length: 16 }, () => infer("bounded", 64)));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(2);
    const rejected = answers[statuses.indexOf(503)];
    expect(rejected).toBeDefined();
    expect((await readJson(rejected as Response)).error).toMatch(
      /^scheduler: Exceeds maximum queue size: model 'bounded' priority level 1 already holds 1 requests \(max_queue_size 1\)$/,
    );
  });

  it("rejects a request whose own timeout expires in the queue with 503", async () => {
    // Full batches keep the one instance busy for many executions in a row (its sessions
    // run in a worker, so the queue must be long for the hurried one to wait in it).
    const slow = Array.from({ length: 24 }, () => infer("timed", 64));
    // Their bodies take a while to arrive; the hurried one is sent once several wait in the queue.
    await until("requests wait in the queue", () => server.manager.resolve("timed").pendingCount() >= 3);
    const hurried = await infer("timed", 1, { timeout: 100 });
    for (const answer of await Promise.all(slow)) expect(answer.status).toBe(200);
    expect(hurried.status).toBe(503);
    expect((await readJson(hurried)).error).toBe(
      "scheduler: Request timeout expired after 100 µs in the queue",
    );
  });

  it("refuses a negative priority", async () => {
    const response = await infer("timed", 1, { priority: -1 });
    expect(response.status).toBe(400);
    expect((await readJson(response)).error).toBe(
      "protocol: parameter 'priority' must be a non-negative integer, got -1",
    );
  });
});
