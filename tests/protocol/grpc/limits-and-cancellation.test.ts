import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mlpModel } from "../../../bench/mlp.ts";
import { GRPCInferenceService } from "../../../src/gen/grpc_service_pb.ts";
import { runGrpcJs } from "../../support/grpc-js.ts";
import { addIdentities, TestRepository } from "../../support/model-repo.ts";
import { metricValue, startTestServer, type TestServer } from "../../support/test-server.ts";

// Twenty 512-wide layers: a few ms per execution with small messages, so requests queue up behind it.
const WIDTH = 512;
const repo = addIdentities(new TestRepository()).addModel("slow", {
  config: `max_batch_size: 64
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [${WIDTH}] }] output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [${WIDTH}] }]
instance_group [{ kind: KIND_CPU count: 1 }]`,
  versions: { 1: mlpModel(WIDTH, 20) },
});
let server: TestServer;
const LIMIT = 1024 * 1024;

beforeAll(async () => {
  server = await startTestServer(repo.root, [
    `--grpc-max-message-bytes=${LIMIT}`,
    "--disable-auto-complete-config",
  ]);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

describe("gRPC message size limit", () => {
  it("answers RESOURCE_EXHAUSTED for a message over --grpc-max-message-bytes, and serves the next one", async () => {
    const oversize = await runGrpcJs(server.grpcPort as number, "oversize", 2 * LIMIT);
    expect(oversize.code).toBe(8);
    expect(oversize.details).toMatch(/message size .* is larger than configured readMaxBytes 1048576/);
    const fine = await runGrpcJs(server.grpcPort as number, "oversize", 1000);
    expect(fine.code).toBe(0);
  });
});

describe("gRPC cancellation", () => {
  it("never executes a request cancelled while it waited in the queue", async () => {
    const transport = createGrpcTransport({ baseUrl: server.grpcUrl });
    const client = createClient(GRPCInferenceService, transport);
    const request = (id: string) => ({
      modelName: "slow",
      id,
      inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1n, BigInt(WIDTH)] }],
      rawInputContents: [new Uint8Array(WIDTH * 4)],
    });
    const stats = async () => {
      const response = await client.modelStatistics({ name: "slow" });
      return Number(response.modelStats[0]?.inferenceCount ?? 0);
    };
    const before = await stats();
    const version = server.manager.resolve("slow");
    const until = async (condition: () => boolean) => {
      for (let i = 0; i < 400 && !condition(); i++) await Bun.sleep(5);
    };
    // Twenty requests keep the one instance busy for tens of ms; the cancelled one
    // queues behind them, and is aborted once a few more have run (it waited a while)
    // but with many still ahead of it, so the cancellation reaches the server first.
    const busy = Array.from({ length: 20 }, (_, i) => client.modelInfer(request(`busy${i}`)));
    await until(() => version.pendingCount() >= 10);
    const controller = new AbortController();
    const cancelled = client.modelInfer(request("cancelled"), { signal: controller.signal });
    await until(() => version.pendingCount() >= 11);
    const queued = version.pendingCount();
    await until(() => version.pendingCount() <= queued - 3);
    expect(version.pendingCount()).toBeGreaterThan(3);
    controller.abort();
    await expect(cancelled).rejects.toThrow(/cancel/i);
    await Promise.all(busy);
    await Bun.sleep(50);
    expect(await stats()).toBe(before + 20);
    const metrics = await fetch(server.metricsUrl).then((response) => response.text());
    expect(
      metricValue(metrics, 'nv_inference_request_failure{model="slow",version="1",reason="CANCELED"}'),
    ).toBe(1);
  });
});
