import { createServer, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Restrictions } from "../restrictions.ts";
import type { InferenceService } from "../service.ts";
import { encodeGrpcMessage, fixGrpcMessageEncoding } from "./grpc-message.ts";
import { restrictionInterceptor } from "./restricted.ts";
import { grpcRoutes, procedurePaths } from "./routes.ts";
import { unaryInfer } from "./unary-infer.ts";

export interface GrpcServerOptions {
  port: number;
  address: string;
  /** Largest message either way; larger ones get RESOURCE_EXHAUSTED. */
  maxMessageBytes: number;
  /** --grpc-restricted-protocol. */
  restrictions: Restrictions;
}

export interface GrpcServer {
  port: number;
  /**
   * Sends GOAWAY on every session, now and on sessions opened later, so
   * clients take new calls elsewhere; calls already accepted are answered.
   */
  drain(): void;
  stop(): Promise<void>;
}

/**
 * Native gRPC (h2c) on node:http2, through connect-node (Bun.serve cannot
 * send the HTTP trailers gRPC needs), with plain unary ModelInfer calls
 * taken off the stream before connect sees them (unary-infer.ts).
 */
export async function startGrpcServer(
  service: InferenceService,
  options: GrpcServerOptions,
): Promise<GrpcServer> {
  const handler = connectNodeAdapter({
    routes: grpcRoutes(service),
    grpc: true,
    grpcWeb: false,
    connect: false,
    readMaxBytes: options.maxMessageBytes,
    writeMaxBytes: options.maxMessageBytes,
    interceptors: options.restrictions.size > 0 ? [restrictionInterceptor(options.restrictions)] : [],
  });
  const sessions = new Set<ServerHttp2Session>();
  let draining = false;
  const server: Http2Server = createServer((request, response) => {
    fixGrpcMessageEncoding(response);
    handler(request, response);
  });
  // The request handler above hangs off the server's own "stream" listener (the compat
  // layer); ModelInfer calls the fast path takes never reach it.
  const fast = unaryInfer(service, options);
  const compat = server.listeners("stream") as ((...args: unknown[]) => void)[];
  server.removeAllListeners("stream");
  const known = new Set(procedurePaths());
  server.on("stream", (stream, headers, ...rest) => {
    if (!known.has(headers[":path"] ?? ""))
      return unimplemented(stream as ServerHttp2Stream, headers[":path"]);
    // A session opened during the drain serves this call and no more.
    if (draining) (stream as ServerHttp2Stream).session?.close();
    if (fast(stream as ServerHttp2Stream, headers)) return;
    for (const listener of compat) listener.call(server, stream, headers, ...rest);
  });
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.address, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    drain: () => {
      draining = true;
      for (const session of sessions) session.close();
    },
    stop: () =>
      new Promise((resolve) => {
        for (const session of sessions) session.close();
        server.close(() => resolve());
        setTimeout(() => {
          for (const session of sessions) session.destroy();
        }, 1000).unref();
      }),
  };
}

/**
 * A call to a method neither service has: a trailers-only gRPC answer with
 * UNIMPLEMENTED naming it (connect-node would answer a bare HTTP 404).
 */
function unimplemented(stream: ServerHttp2Stream, path: string | undefined): void {
  stream.on("error", () => {});
  stream.respond(
    {
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-status": "12",
      "grpc-message": encodeGrpcMessage(
        `unknown method ${path ?? "(none)"}: not a method of inference.GRPCInferenceService or grpc.health.v1.Health`,
      ),
    },
    { endStream: true },
  );
  stream.resume();
}
