import type { ConnectRouter } from "@connectrpc/connect";
import { GRPCInferenceService } from "../../gen/grpc_service_pb.ts";
import { Health } from "../../gen/health_pb.ts";
import type { InferenceService } from "../service.ts";
import { healthServiceImpl } from "./health-service.ts";
import { inferenceServiceImpl } from "./inference-service.ts";

/** Both services, registered on a Connect router (gRPC port, or Connect/gRPC-web on the HTTP port). */
export function grpcRoutes(service: InferenceService): (router: ConnectRouter) => void {
  return (router) => {
    router.service(GRPCInferenceService, inferenceServiceImpl(service));
    router.service(Health, healthServiceImpl(service));
  };
}

/** Every method path the two services answer, e.g. "/inference.GRPCInferenceService/ModelInfer". */
export function procedurePaths(): string[] {
  return [GRPCInferenceService, Health].flatMap((service) =>
    service.methods.map((method) => `/${service.typeName}/${method.name}`),
  );
}
