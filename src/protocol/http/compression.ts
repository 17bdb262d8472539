import { deflateSync, gzipSync } from "node:zlib";

/** Below this size compressing costs more than it saves. */
const MIN_COMPRESS_BYTES = 1024;

/** Compresses a response body with gzip or deflate when the client accepts it. */
export function compressIfAccepted(
  body: Uint8Array | string,
  headers: Record<string, string>,
  accept: string | null,
): Response {
  const size = typeof body === "string" ? body.length : body.byteLength;
  const wanted = accept ? pickEncoding(accept) : undefined;
  if (!wanted || size < MIN_COMPRESS_BYTES) return new Response(body, { headers });
  const compressed = wanted === "gzip" ? gzipSync(body) : deflateSync(body);
  return new Response(compressed, {
    headers: { ...headers, "content-encoding": wanted, vary: "accept-encoding" },
  });
}

function pickEncoding(accept: string): "gzip" | "deflate" | undefined {
  const offered = accept
    .toLowerCase()
    .split(",")
    .map((part) => part.trim().split(";"))
    .filter(([, quality]) => quality?.trim() !== "q=0")
    .map(([name]) => name?.trim());
  if (offered.includes("gzip")) return "gzip";
  if (offered.includes("deflate")) return "deflate";
  return undefined;
}
