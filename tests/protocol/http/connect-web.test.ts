import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { GRPCInferenceService } from "../../../src/gen/grpc_service_pb.ts";
import { Health, HealthCheckResponse_ServingStatus } from "../../../src/gen/health_pb.ts";
import { addSimple, TestRepository } from "../../support/model-repo.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

const repo = addSimple(new TestRepository());
let server: TestServer;
const ORIGIN = "http://app.example.test";

beforeAll(async () => {
  server = await startTestServer(repo.root, [`--cors-allow-origin=${ORIGIN}`]);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

const simpleRequest = () => ({
  modelName: "simple",
  id: "web-1",
  inputs: [
    { name: "INPUT0", datatype: "INT32", shape: [1n, 16n] },
    { name: "INPUT1", datatype: "INT32", shape: [1n, 16n] },
  ],
  rawInputContents: [
    new Uint8Array(new Int32Array(16).fill(3).buffer),
    new Uint8Array(new Int32Array(16).fill(1).buffer),
  ],
});

for (const [protocol, makeTransport] of [
  ["Connect", createConnectTransport],
  ["gRPC-web", createGrpcWebTransport],
] as const) {
  describe(`${protocol} on the HTTP port (@connectrpc/connect-web, fetch)`, () => {
    const client = () => createClient(GRPCInferenceService, makeTransport({ baseUrl: server.url }));

    it("infers with raw tensors", async () => {
      const response = await client().modelInfer(simpleRequest());
      expect(response.id).toBe("web-1");
      expect(response.outputs.map((output) => output.name)).toEqual(["OUTPUT0", "OUTPUT1"]);
      const sum = response.rawOutputContents[0] as Uint8Array;
      expect(Array.from(new Int32Array(sum.slice().buffer))).toEqual(new Array(16).fill(4));
    });

    it("answers metadata and statistics", async () => {
      expect((await client().serverMetadata({})).name).toBe("ferry");
      const stats = await client().modelStatistics({ name: "simple" });
      expect(stats.modelStats[0]?.name).toBe("simple");
    });

    it("maps errors to status codes with the layer-naming message", async () => {
      const error = await client()
        .modelReady({ name: "nope" })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.NotFound);
      expect((error as ConnectError).rawMessage).toBe(
        "repository: Request for unknown model: 'nope' is not found",
      );
    });

    it("streams health with server-streaming Watch", async () => {
      const health = createClient(Health, makeTransport({ baseUrl: server.url }));
      const controller = new AbortController();
      for await (const message of health.watch({ service: "simple" }, { signal: controller.signal })) {
        expect(message.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
        controller.abort();
        break;
      }
    });
  });
}

describe("CORS for browsers", () => {
  const path = "/inference.GRPCInferenceService/ServerLive";

  it("answers a preflight from an allowed origin", async () => {
    const response = await fetch(`${server.url}${path}`, {
      method: "OPTIONS",
      headers: {
        origin: ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,connect-protocol-version",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(response.headers.get("access-control-allow-headers")).toBe(
      "content-type,connect-protocol-version",
    );
  });

  it("marks answers to an allowed origin and exposes the gRPC-web trailers", async () => {
    const response = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/json" },
      body: "{}",
    });
    expect(await response.json()).toEqual({ live: true });
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(response.headers.get("access-control-expose-headers")).toContain("grpc-status");
  });

  it("does not allow other origins", async () => {
    const response = await fetch(`${server.url}/v2/health/live`, { headers: { origin: "http://evil.test" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});
