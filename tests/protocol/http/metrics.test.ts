import { afterAll, beforeAll, expect, it } from "bun:test";
import { addReshaper, addSimple, TestRepository } from "../../support/model-repo.ts";
import { metricValue, startTestServer, type TestServer } from "../../support/test-server.ts";

const repo = addReshaper(addSimple(new TestRepository()));
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

const SIMPLE = '{model="simple",version="1"}';
const scrape = async () => (await fetch(server.metricsUrl)).text();
const ZEROS = new Array(16).fill(0);

it("counts requests, inferences, executions and durations with Triton's names", async () => {
  const before = await scrape();
  expect(metricValue(before, `nv_inference_request_success${SIMPLE}`)).toBe(0);
  expect(before).toContain("# TYPE nv_inference_request_success counter");
  expect(before).toContain("# TYPE nv_inference_pending_request_count gauge");
  for (const batch of [1, 3]) {
    const data = new Array(16 * batch).fill(1);
    const response = await fetch(`${server.url}/v2/models/simple/infer`, {
      method: "POST",
      body: JSON.stringify({
        inputs: [
          { name: "INPUT0", shape: [batch, 16], datatype: "INT32", data },
          { name: "INPUT1", shape: [batch, 16], datatype: "INT32", data },
        ],
      }),
    });
    expect(response.status).toBe(200);
  }
  const after = await scrape();
  expect(metricValue(after, `nv_inference_request_success${SIMPLE}`)).toBe(2);
  expect(metricValue(after, `nv_inference_count${SIMPLE}`)).toBe(4);
  expect(metricValue(after, `nv_inference_exec_count${SIMPLE}`)).toBe(2);
  expect(metricValue(after, `nv_inference_request_duration_us${SIMPLE}`)).toBeGreaterThan(0);
  expect(metricValue(after, `nv_inference_compute_infer_duration_us${SIMPLE}`)).toBeGreaterThan(0);
  expect(metricValue(after, `nv_inference_pending_request_count${SIMPLE}`)).toBe(0);
  expect(metricValue(after, `ferry_inference_request_duration_us_count${SIMPLE}`)).toBe(2);
  expect(metricValue(after, `ferry_inference_batch_size_bucket{le="2",model="simple",version="1"}`)).toBe(1);
  expect(metricValue(after, `ferry_inference_batch_size_bucket{le="4",model="simple",version="1"}`)).toBe(2);
  expect(after).toMatch(/^nv_cpu_memory_total_bytes \d+/m);
  expect(after).toMatch(/^process_cpu_seconds_total /m);
});

it("counts failures by reason", async () => {
  const response = await fetch(`${server.url}/v2/models/reshaper/infer`, {
    method: "POST",
    body: JSON.stringify({
      inputs: [
        { name: "DATA", shape: [2], datatype: "FP32", data: [1, 2] },
        { name: "SHAPE", shape: [2], datatype: "INT64", data: [3, 3] },
      ],
    }),
  });
  expect(response.status).toBe(500);
  await fetch(`${server.url}/v2/models/simple/infer`, {
    method: "POST",
    body: JSON.stringify({ inputs: [{ name: "INPUT0", shape: [1, 16], datatype: "INT32", data: ZEROS }] }),
  });
  const text = await scrape();
  expect(
    metricValue(text, 'nv_inference_request_failure{model="reshaper",version="1",reason="BACKEND"}'),
  ).toBe(1);
  expect(metricValue(text, 'nv_inference_request_failure{model="simple",version="1",reason="OTHER"}')).toBe(
    1,
  );
});

it("answers 404 for other paths on the metrics port", async () => {
  expect((await fetch(server.metricsUrl.replace("/metrics", "/other"))).status).toBe(404);
});
