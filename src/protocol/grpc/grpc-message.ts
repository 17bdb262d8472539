import type { Http2ServerResponse, OutgoingHttpHeaders } from "node:http2";

/**
 * connect-node percent-encodes grpc-message with encodeURIComponent, which
 * also escapes ':' and ','; gRPC's spec escapes only bytes outside printable
 * ASCII and '%', and grpc-js decodes with decodeURI, which leaves "%3A" as
 * it is. Re-encoding to the spec's form gives every client clean messages.
 */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(message)) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function reencode(headers: OutgoingHttpHeaders | undefined): OutgoingHttpHeaders | undefined {
  const message = headers?.["grpc-message"];
  if (typeof message !== "string") return headers;
  let decoded = message;
  try {
    decoded = decodeURIComponent(message);
  } catch {
    return headers;
  }
  return { ...headers, "grpc-message": encodeGrpcMessage(decoded) };
}

/** Rewrites grpc-message wherever connect-node writes it: trailers, and headers of trailers-only answers. */
export function fixGrpcMessageEncoding(response: Http2ServerResponse): void {
  const addTrailers = response.addTrailers.bind(response);
  response.addTrailers = (headers) => addTrailers(reencode(headers) ?? headers);
  const writeHead = response.writeHead.bind(response) as (
    status: number,
    headers?: OutgoingHttpHeaders,
  ) => Http2ServerResponse;
  response.writeHead = ((status: number, headers?: OutgoingHttpHeaders) =>
    writeHead(status, reencode(headers))) as typeof response.writeHead;
}
