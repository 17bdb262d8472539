import type { MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GRPCInferenceService, type ModelInferRequestSchema } from "../src/gen/grpc_service_pb.ts";
import type { Send } from "./load.ts";
import type { InputMetadata } from "./model-request.ts";

/** gRPC ModelInfer over HTTP/2 (connect-node), raw_input_contents, one client for all workers. */
export type GrpcInferRequest = MessageInitShape<typeof ModelInferRequestSchema>;

export function grpcSender(baseUrl: string, request: GrpcInferRequest): Send {
  const client = createClient(GRPCInferenceService, createGrpcTransport({ baseUrl }));
  return async () => {
    await client.modelInfer(request);
    return true;
  };
}

/** A ModelInferRequest of zeros for any model, from its metadata (perf_analyzer's default data). */
export function grpcRequestFromMetadata(
  model: string,
  inputs: InputMetadata[],
  options: { batchSize: number; batching: boolean; shapes: Map<string, number[]> },
): GrpcInferRequest {
  const tensors = inputs.map((input) => {
    const dims =
      options.shapes.get(input.name) ??
      input.shape.slice(options.batching ? 1 : 0).map((dim) => (dim < 0 ? 1 : dim));
    const shape = options.batching ? [options.batchSize, ...dims] : dims;
    const count = shape.reduce((product, dim) => product * dim, 1);
    const width =
      { BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, BF16: 2, UINT64: 8, INT64: 8, FP64: 8 }[
        input.datatype
      ] ?? 4;
    // BYTES: every element the empty string (a zero length prefix).
    const bytes = new Uint8Array(input.datatype === "BYTES" ? 4 * count : width * count);
    return { metadata: { name: input.name, datatype: input.datatype, shape: shape.map(BigInt) }, bytes };
  });
  return {
    modelName: model,
    inputs: tensors.map((tensor) => tensor.metadata),
    rawInputContents: tensors.map((tensor) => tensor.bytes),
  };
}
