import { createConnectRouter } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { grpcRoutes } from "../grpc/routes.ts";
import type { InferenceService } from "../service.ts";

/**
 * The gRPC services as Connect and gRPC-web endpoints for the HTTP port, one
 * fetch handler per method path (`/inference.GRPCInferenceService/ModelInfer`).
 * Browsers cannot stream request bodies, so client- and bidi-streaming
 * methods are for the gRPC port.
 */
export function connectHandlers(
  service: InferenceService,
  maxMessageBytes: number,
): Map<string, (request: Request) => Promise<Response>> {
  const router = createConnectRouter({
    grpc: false,
    grpcWeb: true,
    connect: true,
    readMaxBytes: maxMessageBytes,
    writeMaxBytes: maxMessageBytes,
  });
  grpcRoutes(service)(router);
  return new Map(router.handlers.map((handler) => [handler.requestPath, createFetchHandler(handler)]));
}
