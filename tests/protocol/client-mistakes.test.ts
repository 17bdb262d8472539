import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GRPCInferenceService } from "../../src/gen/grpc_service_pb.ts";
import { readJson } from "../support/json.ts";
import { addIdentities, TestRepository } from "../support/model-repo.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

/** Mistakes only a client can make answer 400 / INVALID_ARGUMENT (or NOT_FOUND), never 500 / INTERNAL. */
const repo = addIdentities(new TestRepository());
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});
const client = () => createClient(GRPCInferenceService, createGrpcTransport({ baseUrl: server.grpcUrl }));
const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as ConnectError,
  );

describe("classification of a BYTES output", () => {
  const body = {
    inputs: [{ name: "INPUT0", shape: [1, 1], datatype: "BYTES", data: ["a"] }],
    outputs: [{ name: "OUTPUT0", parameters: { classification: 1 } }],
  };
  const message =
    "backend: model 'identity_bytes' output 'OUTPUT0' is BYTES: classification needs a numeric output";

  it("answers HTTP 400 naming the output", async () => {
    const response = await fetch(`${server.url}/v2/models/identity_bytes/infer`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    expect(await readJson(response)).toEqual({ error: message });
  });

  it("answers gRPC INVALID_ARGUMENT", async () => {
    const error = await caught(
      client().modelInfer({
        modelName: "identity_bytes",
        inputs: [
          {
            name: "INPUT0",
            datatype: "BYTES",
            shape: [1n, 1n],
            contents: { bytesContents: [new Uint8Array([97])] },
          },
        ],
        outputs: [
          {
            name: "OUTPUT0",
            parameters: { classification: { parameterChoice: { case: "int64Param", value: 1n } } },
          },
        ],
      }),
    );
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toBe(message);
  });
});

describe("a 100 KB model name over gRPC", () => {
  it("answers NOT_FOUND with the name cut short, and the server stays up", async () => {
    const name = "m".repeat(100_000);
    for (const call of [
      () => client().modelInfer({ modelName: name }),
      () => client().modelMetadata({ name }),
      () => client().modelReady({ name }),
    ]) {
      const error = await caught(call());
      expect(error).toBeInstanceOf(ConnectError);
      expect(error?.code).toBe(Code.NotFound);
      expect(error?.rawMessage).toBe(
        `repository: Request for unknown model: '${"m".repeat(64)}…' (100000 characters) is not found`,
      );
    }
    expect((await client().serverLive({})).live).toBe(true);
  });
});
