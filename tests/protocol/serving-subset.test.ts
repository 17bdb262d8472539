import { afterAll, beforeAll } from "bun:test";
import { addSimple, TestRepository } from "../support/model-repo.ts";
import { CRASH_MODEL_CODE, DOUBLE_MODEL_CODE, describeServingSubset } from "../support/serving-subset.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";
import { addTsModel, FP32_IO } from "../support/ts-models.ts";

// The runtime-neutral subset under Bun, in this process: tests/deno/ runs the same one against ferry under Deno.
const repo = addTsModel(
  addTsModel(addSimple(new TestRepository()), "double", FP32_IO, DOUBLE_MODEL_CODE),
  "crash",
  FP32_IO,
  CRASH_MODEL_CODE,
);
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

describeServingSubset(() => ({
  url: server.url,
  grpcPort: server.grpcPort as number,
  metricsUrl: server.metricsUrl,
}));
