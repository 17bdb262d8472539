import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { FerryError, invalidArgument } from "../../core/errors.ts";
import {
  type GRPCInferenceService,
  ModelConfigResponseSchema,
  ModelMetadataResponseSchema,
  type ModelRepositoryParameter,
  ModelStatisticsResponseSchema,
} from "../../gen/grpc_service_pb.ts";
import { serverTiming } from "../server-timing.ts";
import type { InferenceService, LoadRequest } from "../service.ts";
import { decodeInferRequest, encodeInferResponse } from "./infer-codec.ts";
import { answer } from "./status.ts";
import { streamInfer } from "./stream-infer.ts";

function refuseRepositoryName(name: string): void {
  if (name)
    throw new FerryError("UNIMPLEMENTED", "protocol", "'repository_name' specification is not supported");
}

/** RepositoryModelLoad parameters: "config" as string_param, "file:<version>/<path>" as bytes_param. */
function loadRequestOf(parameters: Record<string, ModelRepositoryParameter>): LoadRequest {
  const files = new Map<string, Uint8Array>();
  let config: string | undefined;
  for (const [key, { parameterChoice: choice }] of Object.entries(parameters)) {
    if (key === "config") {
      if (choice.case !== "stringParam")
        throw invalidArgument("protocol", "load parameter 'config' must be a string_param");
      config = choice.value;
    } else if (key.startsWith("file:")) {
      if (choice.case !== "bytesParam")
        throw invalidArgument("protocol", `load parameter '${key}' must be a bytes_param`);
      files.set(key.slice("file:".length), choice.value);
    } else {
      throw invalidArgument("protocol", `unknown load parameter '${key}' (config, file:<version>/<path>)`);
    }
  }
  return config === undefined ? { files } : { config, files };
}

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
      answer(async () => {
        const decoded = decodeInferRequest(request, context.signal);
        const response = await service.infer(decoded);
        // As on the HTTP infer answer, for browsers (the console) on port 8000. Native gRPC answers
        // go without: most take the fast path (unary-infer.ts), and both paths answer alike.
        if (context.protocolName !== "grpc")
          context.responseHeader.set("server-timing", serverTiming(decoded.timing));
        return encodeInferResponse(response);
      }),
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
    repositoryIndex: (request) =>
      answer(async () => ({
        models: (await service.repositoryIndex(request.ready)).map((row) => ({
          version: "",
          state: "",
          reason: "",
          ...row,
        })),
      })),
    repositoryModelLoad: (request) =>
      answer(async () => {
        refuseRepositoryName(request.repositoryName);
        await service.loadModel(request.modelName, loadRequestOf(request.parameters));
        return {};
      }),
    repositoryModelUnload: (request) =>
      answer(() => {
        refuseRepositoryName(request.repositoryName);
        const dependents = request.parameters.unload_dependents?.parameterChoice;
        if (dependents && dependents.case !== "boolParam")
          throw invalidArgument("protocol", "'unload_dependents' must be a bool_param");
        service.unloadModel(request.modelName);
        return {};
      }),
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
