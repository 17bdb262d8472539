import { type ClientHttp2Session, connect } from "node:http2";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GRPCInferenceService, ModelInferRequestSchema } from "../src/gen/grpc_service_pb.ts";
import { grpcFrame } from "../tests/support/grpc-frame.ts";
import type { Send } from "./load.ts";
import type { InputMetadata } from "./model-request.ts";

/** gRPC ModelInfer over HTTP/2, raw_input_contents, one connection for all workers. */
export type GrpcInferRequest = MessageInitShape<typeof ModelInferRequestSchema>;

const HEADERS = {
  ":method": "POST",
  ":path": `/${GRPCInferenceService.typeName}/ModelInfer`,
  "content-type": "application/grpc",
  te: "trailers",
};

/**
 * A lean gRPC client on node:http2: the request is encoded and framed once,
 * each call is one stream whose answer is read whole and checked (a complete
 * message, grpc-status 0), not decoded — as httpSender reads HTTP answers.
 * connect-node's client costs about ten times fetch's CPU per call under
 * Bun, so it would measure itself rather than the server (connectGrpcSender).
 */
export function grpcSender(baseUrl: string, request: GrpcInferRequest): Send {
  const message = toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, request));
  const frame = grpcFrame(message);
  let session: ClientHttp2Session | undefined;
  const open = () => {
    if (session && !session.closed && !session.destroyed) return session;
    const opened = connect(baseUrl);
    opened.on("error", () => {});
    opened.on("close", () => {
      if (session === opened) session = undefined;
    });
    session = opened;
    return opened;
  };
  return () =>
    new Promise<boolean>((resolve) => {
      const stream = open().request(HEADERS);
      const chunks: Buffer[] = [];
      let status: unknown;
      stream.on("response", (headers) => {
        status = headers["grpc-status"];
      });
      stream.on("trailers", (trailers) => {
        status = trailers["grpc-status"];
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", () => resolve(false));
      stream.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve(status === "0" && body.length >= 5 && body.readUInt32BE(1) === body.length - 5);
      });
      stream.end(frame);
    });
}

/** The same calls through connect-node's gRPC client (createGrpcTransport). */
export function connectGrpcSender(baseUrl: string, request: GrpcInferRequest): Send {
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
