import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readJson } from "../../support/json.ts";
import { addAccumulator, TestRepository } from "../../support/model-repo.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

const repo = addAccumulator(
  addAccumulator(new TestRepository()),
  "accumulator_oldest",
  "oldest { max_candidate_sequences: 16 }",
);
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

async function add(
  model: string,
  id: number | string,
  value: number,
  flags: { start?: boolean; end?: boolean } = {},
) {
  const response = await fetch(`${server.url}/v2/models/${model}/infer`, {
    method: "POST",
    body: JSON.stringify({
      parameters: { sequence_id: id, sequence_start: flags.start ?? false, sequence_end: flags.end ?? false },
      inputs: [{ name: "INPUT", shape: [1, 1], datatype: "INT32", data: [value] }],
    }),
  });
  const body = await readJson(response);
  return {
    status: response.status,
    total: body.outputs?.[0]?.data?.[0] as number | undefined,
    error: body.error as string | undefined,
  };
}

describe("sequence batching over HTTP", () => {
  for (const model of ["accumulator", "accumulator_oldest"]) {
    it(`keeps a separate running total per interleaved sequence (${model})`, async () => {
      expect((await add(model, 1, 5, { start: true })).total).toBe(5);
      expect((await add(model, "two", 100, { start: true })).total).toBe(100);
      expect((await add(model, 1, 3)).total).toBe(8);
      expect((await add(model, "two", 1)).total).toBe(101);
      expect((await add(model, 1, 2, { end: true })).total).toBe(10);
      expect((await add(model, "two", 9, { end: true })).total).toBe(110);
    });

    it(`stays correct with many sequences sent concurrently (${model})`, async () => {
      // 8 slots and 8 backlog places: every one of 16 concurrent sequences is served.
      const ids = Array.from({ length: 16 }, (_, i) => 1000 + i);
      const totals = await Promise.all(
        ids.map(async (id) => {
          let total = 0;
          for (let step = 0; step < 5; step++) {
            const answer = await add(model, id, id + step, { start: step === 0, end: step === 4 });
            expect(answer.status).toBe(200);
            total = answer.total as number;
          }
          return total;
        }),
      );
      expect(totals).toEqual(ids.map((id) => 5 * id + 10));
    });
  }

  it("answers a request for a sequence that was never started with 400", async () => {
    const answer = await add("accumulator", 4242, 1);
    expect(answer.status).toBe(400);
    expect(answer.error).toBe(
      "scheduler: sequence 4242 of model 'accumulator' was never started: its first request needs sequence_start=true",
    );
  });

  it("restarts a sequence's total on a new sequence_start", async () => {
    await add("accumulator", 77, 5, { start: true });
    expect((await add("accumulator", 77, 1, { start: true })).total).toBe(1);
  });

  it("refuses sequence flags of the wrong type", async () => {
    const response = await fetch(`${server.url}/v2/models/accumulator/infer`, {
      method: "POST",
      body: JSON.stringify({
        parameters: { sequence_id: 3, sequence_start: "yes" },
        inputs: [{ name: "INPUT", shape: [1, 1], datatype: "INT32", data: [1] }],
      }),
    });
    expect(response.status).toBe(400);
    expect((await readJson(response)).error).toBe(
      "protocol: parameter 'sequence_start' must be a boolean, got string",
    );
  });
});
