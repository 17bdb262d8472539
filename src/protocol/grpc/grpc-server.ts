import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Restrictions } from "../restrictions.ts";
import type { InferenceService } from "../service.ts";
import { fixGrpcMessageEncoding } from "./grpc-message.ts";
import { restrictionInterceptor } from "./restricted.ts";
import { grpcRoutes } from "./routes.ts";

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
  stop(): Promise<void>;
}

/**
 * Native gRPC (h2c) on node:http2, through connect-node: Bun.serve cannot
 * send the HTTP trailers gRPC needs.
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
  const server: Http2Server = createServer((request, response) => {
    fixGrpcMessageEncoding(response);
    handler(request, response);
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
