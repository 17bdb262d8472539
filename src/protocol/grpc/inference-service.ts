import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { FerryError } from "../../core/errors.ts";
import {
  type GRPCInferenceService,
  ModelConfigResponseSchema,
  ModelMetadataResponseSchema,
  ModelStatisticsResponseSchema,
} from "../../gen/grpc_service_pb.ts";
import type { InferenceService } from "../service.ts";
import { decodeInferRequest, encodeInferResponse } from "./infer-codec.ts";
import { answer } from "./status.ts";
import { streamInfer } from "./stream-infer.ts";

const unimplemented = (feature: string) => () =>
  answer(() => {
    throw new FerryError("UNIMPLEMENTED", "protocol", `${feature} is not supported by this server`);
  });

/**
 * GRPCInferenceService on the core API: the same calls as the HTTP
 * adapter, decoded from and encoded to the protobuf messages. Served as
 * gRPC on the gRPC port and as Connect and gRPC-web on the HTTP port.
 */
export function inferenceServiceImpl(service: InferenceService): ServiceImpl<typeof GRPCInferenceService> {
  const version = (text: string) => (text === "" ? undefined : text);
  return {
    serverLive: () => answer(() => ({ live: service.serverLive() })),
    serverReady: () => answer(() => ({ ready: service.serverReady() })),
    modelReady: (request) =>
      answer(() => ({ ready: service.modelReady(request.name, version(request.version)) })),
    serverMetadata: () => answer(() => service.serverMetadata()),
    modelMetadata: (request) =>
      answer(() => {
        const metadata = service.modelMetadata(request.name, version(request.version));
        const tensor = (entry: (typeof metadata.inputs)[number]) => ({
          ...entry,
          shape: entry.shape.map(BigInt),
        });
        return create(ModelMetadataResponseSchema, {
          ...metadata,
          inputs: metadata.inputs.map(tensor),
          outputs: metadata.outputs.map(tensor),
        });
      }),
    modelInfer: (request, context) =>
      answer(async () =>
        encodeInferResponse(await service.infer(decodeInferRequest(request, context.signal))),
      ),
    modelStreamInfer: (requests, context) => streamInfer(service, requests, context),
    modelConfig: (request) =>
      answer(() =>
        create(ModelConfigResponseSchema, {
          config: service.modelConfig(request.name, version(request.version)),
        }),
      ),
    modelStatistics: (request) =>
      answer(() =>
        fromJson(
          ModelStatisticsResponseSchema,
          service.modelStatistics(
            request.name || undefined,
            version(request.version),
          ) as unknown as JsonValue,
        ),
      ),
    repositoryIndex: unimplemented("RepositoryIndex"),
    repositoryModelLoad: unimplemented("RepositoryModelLoad"),
    repositoryModelUnload: unimplemented("RepositoryModelUnload"),
    systemSharedMemoryStatus: unimplemented("system shared memory"),
    systemSharedMemoryRegister: unimplemented("system shared memory"),
    systemSharedMemoryUnregister: unimplemented("system shared memory"),
    cudaSharedMemoryStatus: unimplemented("CUDA shared memory"),
    cudaSharedMemoryRegister: unimplemented("CUDA shared memory"),
    cudaSharedMemoryUnregister: unimplemented("CUDA shared memory"),
    traceSetting: unimplemented("tracing"),
    logSettings: unimplemented("the logging extension"),
  };
}
