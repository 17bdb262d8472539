import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GRPCInferenceService } from "../../src/gen/grpc_service_pb.ts";
import { readJson } from "../support/json.ts";
import { addSimple, TestRepository } from "../support/model-repo.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

const repo = addSimple(new TestRepository());
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(repo.root, [
    "--model-control-mode=explicit",
    "--load-model=simple",
    "--http-restricted-api=model-repository,statistics:admin-key=s3cret",
    "--grpc-restricted-protocol=model-repository:admin-key=s3cret",
  ]);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

describe("--http-restricted-api", () => {
  it("answers 403 naming the header when it is missing or wrong", async () => {
    for (const headers of [{}, { "admin-key": "guess" }] as Record<string, string>[]) {
      const response = await fetch(`${server.url}/v2/repository/index`, { method: "POST", headers });
      expect(response.status).toBe(403);
      expect(await readJson(response)).toEqual({
        error: "This API is restricted, expecting header 'admin-key'",
      });
    }
    expect((await fetch(`${server.url}/v2/models/simple/stats`)).status).toBe(403);
  });

  it("lets the call through with the key, and leaves other APIs open", async () => {
    const response = await fetch(`${server.url}/v2/repository/index`, {
      method: "POST",
      headers: { "admin-key": "s3cret" },
    });
    expect(response.status).toBe(200);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/models/simple`)).status).toBe(200);
  });

  it("restricts the same group on the Connect endpoints", async () => {
    const response = await fetch(`${server.url}/inference.GRPCInferenceService/RepositoryIndex`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(403);
  });
});

describe("--grpc-restricted-protocol", () => {
  const client = () => createClient(GRPCInferenceService, createGrpcTransport({ baseUrl: server.grpcUrl }));

  it("answers UNAVAILABLE naming the metadata key without it", async () => {
    const error = await client()
      .repositoryIndex({})
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect((error as ConnectError).rawMessage).toBe(
      "This protocol is restricted, expecting header 'triton-grpc-protocol-admin-key'",
    );
  });

  it("lets the call through with triton-grpc-protocol-<key>", async () => {
    const response = await client().repositoryIndex(
      {},
      { headers: { "triton-grpc-protocol-admin-key": "s3cret" } },
    );
    expect(response.models.map((model) => model.name)).toEqual(["simple"]);
    expect((await client().serverLive({})).live).toBe(true);
  });
});
