import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { FerryError } from "../../core/errors.ts";
import { GRPCInferenceService, type ModelInferRequest } from "../../gen/grpc_service_pb.ts";
import type { Restrictions } from "../restrictions.ts";
import type { InferenceService } from "../service.ts";
import { encodeGrpcMessage } from "./grpc-message.ts";
import { decodeInferRequest } from "./infer-codec.ts";
import { readInferRequest, writeInferResponse } from "./infer-wire.ts";
import { restrictionError } from "./restricted.ts";
import { toConnectError } from "./status.ts";

const PATH = `/${GRPCInferenceService.typeName}/ModelInfer`;
/** A gRPC message's prefix: a flags byte (bit 0: compressed), then its length as a big-endian uint32. */
const PREFIX = 5;

export interface UnaryInferOptions {
  maxMessageBytes: number;
  restrictions: Restrictions;
}

/**
 * ModelInfer straight off the HTTP/2 stream. connect-node's generic
 * pipeline (compat request/response, async iterables, envelope transforms)
 * costs several times the inference of a small model; this path reads the
 * one message, decodes it once and writes one frame and the trailers. It
 * answers as connect does, down to the error messages, and takes only the
 * plain calls: any other method, JSON, compression or a deadline returns
 * false and is left to connect. Unlike connect it never gzips the answer:
 * tensor data hardly compresses, and HTTP binary answers are never
 * compressed either.
 */
export function unaryInfer(
  service: InferenceService,
  options: UnaryInferOptions,
): (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean {
  return (stream, headers) => {
    const type = headers["content-type"];
    const encoding = headers["grpc-encoding"];
    if (
      headers[":path"] !== PATH ||
      headers[":method"] !== "POST" ||
      (type !== "application/grpc" && type !== "application/grpc+proto") ||
      (encoding !== undefined && encoding !== "identity") ||
      headers["grpc-timeout"] !== undefined
    )
      return false;
    serve(stream, headers, service, options);
    return true;
  };
}

function serve(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  service: InferenceService,
  options: UnaryInferOptions,
): void {
  const max = options.maxMessageBytes;
  const cancel = new AbortController();
  const chunks: Buffer[] = [];
  const body = () => (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
  let received = 0;
  let answered = false;
  const infer = async () => {
    const request = decodeBody(body(), max);
    const refused = restrictionError(
      options.restrictions,
      GRPCInferenceService.typeName,
      "ModelInfer",
      (name) => headerValue(headers[name]),
    );
    if (refused) throw refused;
    const frame = writeInferResponse(await service.infer(decodeInferRequest(request, cancel.signal)), PREFIX);
    const length = frame.length - PREFIX;
    if (length > max)
      throw new ConnectError(
        `message size ${length} is larger than configured writeMaxBytes ${max}`,
        Code.ResourceExhausted,
      );
    new DataView(frame.buffer, frame.byteOffset).setUint32(1, length);
    return frame;
  };
  // A client that goes away (RST_STREAM, closed connection) cancels its request, as with connect.
  stream.on("close", () => {
    if (!stream.headersSent) cancel.abort();
  });
  stream.on("error", () => {});
  stream.on("data", (chunk: Buffer) => {
    if (answered) return;
    chunks.push(chunk);
    received += chunk.length;
    // An oversized message is refused as soon as its prefix is in, as connect does; past two
    // whole messages the body is an error whatever follows, so it is not buffered further.
    const prefixIn = received >= PREFIX && received - chunk.length < PREFIX;
    if ((prefixIn && declaredLength(body()) > max) || received > 2 * (PREFIX + max)) {
      answered = true;
      respond(stream, undefined, bodyError(body(), max));
    }
  });
  stream.on("end", () => {
    if (answered) return;
    answered = true;
    infer().then(
      (frame) => respond(stream, frame, undefined),
      (error) => respond(stream, undefined, toConnectError(error)),
    );
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

function declaredLength(body: Uint8Array, at = 0): number {
  return new DataView(body.buffer, body.byteOffset + at, PREFIX).getUint32(1);
}

/** The one request message of a unary call, with connect's errors for anything else. */
function decodeBody(body: Uint8Array, max: number): ModelInferRequest {
  if (body.length === 0)
    throw new ConnectError("protocol error: missing input message for unary method", Code.Unimplemented);
  const first = decodeMessage(body, 0, max);
  if (first.end < body.length) {
    decodeMessage(body, first.end, max);
    throw new ConnectError(
      "protocol error: received extra input message for unary method",
      Code.Unimplemented,
    );
  }
  return first.message;
}

function decodeMessage(
  body: Uint8Array,
  at: number,
  max: number,
): { message: ModelInferRequest; end: number } {
  if (body.length - at < PREFIX) throw incompleteMessage();
  const length = declaredLength(body, at);
  if (length > max)
    throw new ConnectError(
      `message size ${length} is larger than configured readMaxBytes ${max}`,
      Code.ResourceExhausted,
    );
  const end = at + PREFIX + length;
  if (body.length < end) throw incompleteMessage();
  if (((body[at] as number) & 1) !== 0)
    throw new ConnectError("received compressed envelope, but do not know how to decompress", Code.Internal);
  try {
    // Bytes fields (raw_input_contents) stay views of the body: no copy.
    return { message: readInferRequest(body.subarray(at + PREFIX, end)), end };
  } catch (error) {
    if (error instanceof FerryError) throw error; // a field refused by the reader (an over-long id)
    throw new ConnectError(
      `parse binary: ${error instanceof Error ? error.message : String(error)}`,
      Code.Internal,
    );
  }
}

/** The error of a body already known to be wrong. */
function bodyError(body: Uint8Array, max: number): ConnectError {
  try {
    decodeBody(body, max);
  } catch (error) {
    return toConnectError(error);
  }
  return new ConnectError(
    "protocol error: received extra input message for unary method",
    Code.Unimplemented,
  );
}

function incompleteMessage(): ConnectError {
  return new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
}

/** Headers, the message if any (a whole frame), then grpc-status/grpc-message trailers, as connect-node sends them. */
function respond(stream: ServerHttp2Stream, frame: Uint8Array | undefined, error: ConnectError | undefined) {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  const trailers: Record<string, string> = {};
  if (error) {
    error.metadata.forEach((value, key) => {
      trailers[key] = value;
    });
    trailers["grpc-status"] = String(error.code);
    trailers["grpc-message"] = encodeGrpcMessage(error.rawMessage);
  } else {
    trailers["grpc-status"] = "0";
  }
  stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers(trailers));
  stream.end(frame);
}
