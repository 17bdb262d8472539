import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { connect, type IncomingHttpHeaders } from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { ModelInferRequestSchema } from "../../src/gen/grpc_service_pb.ts";
import { addSimple, TestRepository } from "../support/model-repo.ts";
import { addSlow, slowRequest } from "../support/slow-model.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";
import { exchange, openSocket, type WireAnswer } from "./http-wire.ts";

// Shutdown must not reset requests the server accepted: once the drain
// starts every HTTP answer says `Connection: close` (so keep-alive clients
// reconnect instead of reusing a connection the listener will close), the
// listener closes only after in-flight answers are written, and gRPC
// sessions get GOAWAY while their accepted calls are answered.
const repo = addSlow(addSimple(new TestRepository()));
const FLAGS = ["--disable-auto-complete-config", "--exit-timeout-secs=1"];
afterAll(() => repo.remove());
const BODY = JSON.stringify({
  inputs: [
    { name: "INPUT0", datatype: "INT32", shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
    { name: "INPUT1", datatype: "INT32", shape: [1, 16], data: new Array(16).fill(1) },
  ],
});
const INFER = `POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`;

interface Outcome {
  answers: { answer: WireAnswer; sentDuringDrain: boolean }[];
  /** Failures of requests the server had accepted: on a reused connection, or after part of an answer. */
  resets: string[];
}

/** Sends infer requests in a loop, reusing the connection unless told to close, until the server is gone. */
async function keepAliveClient(port: number, draining: () => boolean, limit: number): Promise<Outcome> {
  const outcome: Outcome = { answers: [], resets: [] };
  let socket: Awaited<ReturnType<typeof openSocket>> | undefined;
  let reused = false;
  while (outcome.answers.length < limit) {
    if (!socket) {
      try {
        socket = await openSocket(port);
        reused = false;
      } catch {
        break; // Refused: the listener has closed.
      }
    }
    const sentDuringDrain = draining();
    try {
      const [answer] = await exchange(socket, INFER);
      outcome.answers.push({ answer: answer as WireAnswer, sentDuringDrain });
      if (answer?.headers.connection === "close") {
        socket.destroy();
        socket = undefined;
      } else reused = true;
    } catch (error) {
      // A fresh connection reset unanswered was still in the accept queue when the listener closed.
      const received = (error as { received?: number }).received ?? 0;
      if (reused || received > 0) outcome.resets.push(`${(error as Error).message} (${received} bytes)`);
      socket?.destroy();
      socket = undefined;
    }
  }
  socket?.destroy();
  return outcome;
}

describe("connections during the drain", () => {
  it("answers every accepted HTTP request whole, with Connection: close once draining", async () => {
    const server = await startTestServer(repo.root, FLAGS);
    // Queued work keeps the server exiting (refusing new inference with 503) for a while.
    const queued = Array.from({ length: 150 }, () => slowRequest(server.url));
    let draining = false;
    const clients = Array.from({ length: 6 }, () =>
      keepAliveClient(server.httpPort as number, () => draining, 3000),
    );
    await Bun.sleep(200);
    draining = true;
    await server.stop({ graceSecs: 0.3 });
    const outcomes = await Promise.all(clients);
    for (const answer of await Promise.all(queued)) expect([200, 503]).toContain(answer.status);

    expect(outcomes.flatMap((outcome) => outcome.resets)).toEqual([]);
    const answers = outcomes.flatMap((outcome) => outcome.answers);
    for (const { answer } of answers) {
      expect([200, 503]).toContain(answer.status);
      expect(JSON.parse(answer.body)).toEqual(
        answer.status === 200
          ? expect.objectContaining({ model_name: "simple" })
          : { error: expect.any(String) },
      );
    }
    const duringDrain = answers.filter((answer) => answer.sentDuringDrain).map(({ answer }) => answer);
    expect(duringDrain.some((answer) => answer.status === 200)).toBe(true);
    expect(duringDrain.some((answer) => answer.status === 503)).toBe(true);
    expect(duringDrain.filter((answer) => answer.headers.connection !== "close")).toEqual([]);
  });
});

describe("gRPC sessions during the drain", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(repo.root, FLAGS);
  });
  afterAll(() => server.stop());

  it("sends GOAWAY on an open session when the drain starts and still answers its call in flight", async () => {
    const session = connect(server.grpcUrl);
    const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    const stream = session.request({
      ":method": "POST",
      ":path": "/inference.GRPCInferenceService/ModelInfer",
      "content-type": "application/grpc",
      te: "trailers",
    });
    let trailers: IncomingHttpHeaders = {};
    stream.on("trailers", (received) => {
      trailers = received;
    });
    stream.resume();
    const closed = new Promise((resolve, reject) => stream.on("close", resolve).on("error", reject));
    await new Promise((resolve) => stream.once("ready", resolve));
    await Bun.sleep(50); // The server has the call's headers; its message has not been sent yet.

    const stopped = server.stop({ graceSecs: 1 });
    await goaway;
    expect(server.state.phase).toBe("DRAINING"); // At the start of the drain, not at exit.
    const message = toBinary(
      ModelInferRequestSchema,
      create(ModelInferRequestSchema, {
        modelName: "simple",
        inputs: ["INPUT0", "INPUT1"].map((name) => ({ name, datatype: "INT32", shape: [1n, 16n] })),
        rawInputContents: [new Uint8Array(64), new Uint8Array(64)],
      }),
    );
    const frame = new Uint8Array(5 + message.length);
    new DataView(frame.buffer).setUint32(1, message.length);
    frame.set(message, 5);
    stream.end(frame);
    await closed;
    expect(trailers["grpc-status"]).toBe("0");
    session.close();
    await stopped;
  });
});
