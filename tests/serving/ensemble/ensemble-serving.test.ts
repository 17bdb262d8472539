import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createConnectTransport } from "@connectrpc/connect-web";
import { GRPCInferenceService, type ModelInferRequestSchema } from "../../../src/gen/grpc_service_pb.ts";
import { addEnsembles } from "../../support/ensembles.ts";
import { readJson } from "../../support/json.ts";
import { TestRepository } from "../../support/model-repo.ts";
import { SLOW_WIDTH } from "../../support/slow-model.ts";
import { metricValue, startTestServer, type TestServer } from "../../support/test-server.ts";
import { until } from "../../support/until.ts";
import { decodeBinaryResponse, encodeBinaryRequest } from "../../support/v2-binary.ts";

const repo = addEnsembles(new TestRepository());
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(repo.root, ["--disable-auto-complete-config"]);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

const first = Array.from({ length: 16 }, (_, at) => at);
const second = Array.from({ length: 16 }, () => 3);
const jsonBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    ...extra,
    inputs: [
      { name: "INPUT0", shape: [1, 16], datatype: "INT32", data: first },
      { name: "INPUT1", shape: [1, 16], datatype: "INT32", data: second },
    ],
  });
const post = (model: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/v2/models/${model}/infer`, { method: "POST", body, headers });
const stats = async (model: string) =>
  (await readJson(await fetch(`${server.url}/v2/models/${model}/stats`))).model_stats[0];

describe("an ensemble over HTTP", () => {
  it("answers tritonclient's add/sub ensemble with JSON tensors", async () => {
    const response = await post("ensemble_add_sub", jsonBody({ id: "e1" }));
    expect(response.status).toBe(200);
    const body = await readJson(response);
    expect(body.model_name).toBe("ensemble_add_sub");
    expect(body.id).toBe("e1");
    expect(body.outputs.map((output: { name: string }) => output.name)).toEqual(["OUTPUT0", "OUTPUT1"]);
    expect(body.outputs[0].data).toEqual(first.map((value, at) => value + (second[at] as number)));
    expect(body.outputs[1].data).toEqual(first.map((value, at) => value - (second[at] as number)));
  });

  it("answers with binary tensors, and only the outputs asked for", async () => {
    const int32 = (values: number[]) => new Uint8Array(new Int32Array(values).buffer);
    const { body, headerLength } = encodeBinaryRequest(
      [
        { name: "INPUT0", datatype: "INT32", shape: [1, 16], bytes: int32(first) },
        { name: "INPUT1", datatype: "INT32", shape: [1, 16], bytes: int32(second) },
      ],
      { outputs: [{ name: "OUTPUT1", parameters: { binary_data: true } }] },
    );
    const response = await post("ensemble_add_sub", body, {
      "inference-header-content-length": String(headerLength),
    });
    expect(response.status).toBe(200);
    const { outputs } = await decodeBinaryResponse(response);
    expect(outputs.map((output) => output.name)).toEqual(["OUTPUT1"]);
    const bytes = outputs[0]?.bytes as Uint8Array;
    expect(Array.from(new Int32Array(bytes.buffer, bytes.byteOffset, 16))).toEqual(
      first.map((value) => value - 3),
    );
  });

  it("runs a fan-out/fan-in DAG: two independent steps feed a third", async () => {
    const body = await readJson(await post("fan", jsonBody()));
    expect(body.outputs[0].data).toEqual(second.map((value) => 2 * value));
    expect(body.outputs[1].data).toEqual(first.map((value) => 2 * value));
  });

  it("batches concurrent ensemble requests inside the composing model, and counts both", async () => {
    const before = await stats("add_sub");
    const answers = await Promise.all(Array.from({ length: 8 }, () => post("ensemble_add_sub", jsonBody())));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    const after = await stats("add_sub");
    const inferences = after.inference_count - before.inference_count;
    const executions = after.execution_count - before.execution_count;
    expect(inferences).toBe(8);
    expect(executions).toBeLessThan(8);
    const ensemble = await stats("ensemble_add_sub");
    expect(ensemble.inference_stats.success.count).toBeGreaterThanOrEqual(8);
    const metrics = await (await fetch(server.metricsUrl)).text();
    expect(metricValue(metrics, 'nv_inference_request_success{model="ensemble_add_sub",version="1"}')).toBe(
      ensemble.inference_stats.success.count,
    );
    expect(metricValue(metrics, 'nv_inference_count{model="add_sub",version="1"}')).toBe(
      after.inference_count,
    );
  });

  it("fails a request whose step fails, naming the step's model, and counts the failure on both", async () => {
    const response = await post(
      "failing",
      JSON.stringify({
        inputs: [
          { name: "DATA", shape: [4], datatype: "FP32", data: [1, 2, 3, 4] },
          { name: "SHAPE", shape: [2], datatype: "INT64", data: [3, 3] },
        ],
      }),
    );
    expect(response.status).toBe(500);
    expect((await readJson(response)).error).toStartWith(
      "backend: ensemble 'failing' step 0 (model 'reshaper'): onnxruntime failed in reshaper_0",
    );
    expect((await stats("failing")).inference_stats.fail.count).toBe(1);
    expect((await stats("reshaper")).inference_stats.fail.count).toBe(1);
  });

  it("stops the remaining steps when the client goes away between steps", async () => {
    const slowBody = JSON.stringify({
      inputs: [
        { name: "INPUT0", shape: [1, SLOW_WIDTH], datatype: "FP32", data: Array(SLOW_WIDTH).fill(0.5) },
      ],
    });
    // A backlog in slow_a keeps the ensemble's first step waiting while the client gives up.
    const backlog = Array.from({ length: 30 }, () => post("slow_a", slowBody));
    const controller = new AbortController();
    const chain = fetch(`${server.url}/v2/models/slow_chain/infer`, {
      method: "POST",
      signal: controller.signal,
      body: JSON.stringify({
        inputs: [{ name: "IN", shape: [1, SLOW_WIDTH], datatype: "FP32", data: Array(SLOW_WIDTH).fill(0.5) }],
      }),
    }).catch((error: unknown) => error);
    await Bun.sleep(20);
    controller.abort();
    await chain;
    await Promise.all(backlog);
    await until(
      "the ensemble request ended",
      async () => (await stats("slow_chain")).inference_stats.fail.count === 1,
    );
    expect((await stats("slow_b")).inference_count).toBe(0);
    expect((await post("ensemble_add_sub", jsonBody())).status).toBe(200);
  });

  it("shows the ensemble's composing models and checks in the verbose readiness view", async () => {
    const report = await readJson(await fetch(`${server.url}/v2/health/ready?verbose=true`));
    expect(report.ready).toBe(true);
    const fan = report.models.find((model: { name: string }) => model.name === "fan");
    expect(fan.composing_models).toEqual(["add_sub"]);
    const checks = Object.fromEntries(
      fan.versions[0].checks.map((check: { name: string; status: string; detail: string }) => [
        check.name,
        check,
      ]),
    );
    expect(checks.backend.detail).toBe(
      "ensemble of 'add_sub' (latest), 'add_sub' (latest), 'add_sub' (latest)",
    );
    expect(checks.composing_models).toMatchObject({ status: "PASS", detail: "'add_sub' ready" });
    const metadata = await readJson(await fetch(`${server.url}/v2/models/fan`));
    expect(metadata.platform).toBe("ensemble");
  });
});

describe("an ensemble over gRPC and Connect", () => {
  const int32 = (values: number[]) => new Uint8Array(new Int32Array(values).buffer);
  const request: MessageInitShape<typeof ModelInferRequestSchema> = {
    modelName: "ensemble_add_sub",
    inputs: [
      { name: "INPUT0", datatype: "INT32", shape: [1n, 16n] },
      { name: "INPUT1", datatype: "INT32", shape: [1n, 16n] },
    ],
    rawInputContents: [int32(first), int32(second)],
  };
  const sums = first.map((value) => value + 3);
  const readSum = (raw: Uint8Array) => Array.from(new Int32Array(raw.slice().buffer, 0, 16));

  it("answers gRPC unary calls", async () => {
    const client = createClient(GRPCInferenceService, createGrpcTransport({ baseUrl: server.grpcUrl }));
    const response = await client.modelInfer(request);
    expect(readSum(response.rawOutputContents[0] as Uint8Array)).toEqual(sums);
  });

  it("answers on a gRPC stream", async () => {
    const client = createClient(GRPCInferenceService, createGrpcTransport({ baseUrl: server.grpcUrl }));
    async function* requests() {
      for (let round = 0; round < 3; round++) yield { ...request, id: `s${round}` };
    }
    const answers: string[] = [];
    for await (const message of client.modelStreamInfer(requests())) {
      expect(message.errorMessage).toBe("");
      expect(readSum(message.inferResponse?.rawOutputContents[0] as Uint8Array)).toEqual(sums);
      answers.push(message.inferResponse?.id ?? "");
    }
    expect(answers.sort()).toEqual(["s0", "s1", "s2"]);
  });

  it("answers Connect calls on the HTTP port", async () => {
    const client = createClient(GRPCInferenceService, createConnectTransport({ baseUrl: server.url }));
    const response = await client.modelInfer(request);
    expect(readSum(response.rawOutputContents[0] as Uint8Array)).toEqual(sums);
  });
});
