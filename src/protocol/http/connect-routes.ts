import { createConnectRouter } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { grpcRoutes } from "../grpc/routes.ts";
import { type ApiGroup, groupOfMethod } from "../restrictions.ts";
import type { InferenceService } from "../service.ts";

export interface ConnectRoute {
  /** `/inference.GRPCInferenceService/ModelInfer` */
  path: string;
  /** The restricted-API group of the method. */
  group: ApiGroup | undefined;
  handle(request: Request): Promise<Response>;
}

/**
 * The gRPC services as Connect and gRPC-web endpoints for the HTTP port, one
 * fetch handler per method path. Browsers cannot stream request bodies, so
 * client- and bidi-streaming methods are for the gRPC port.
 */
export function connectRoutes(service: InferenceService, maxMessageBytes: number): ConnectRoute[] {
  const router = createConnectRouter({
    grpc: false,
    grpcWeb: true,
    connect: true,
    readMaxBytes: maxMessageBytes,
    writeMaxBytes: maxMessageBytes,
  });
  grpcRoutes(service)(router);
  return router.handlers.map((handler) => ({
    path: handler.requestPath,
    group: groupOfMethod(handler.service.typeName, handler.method.name),
    handle: createFetchHandler(handler),
  }));
}
