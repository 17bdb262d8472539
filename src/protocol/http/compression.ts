import { deflateSync, gzipSync } from "node:zlib";

/** --http-compress-min-bytes default: below this a JSON answer goes out as it is. */
export const DEFAULT_COMPRESS_MIN_BYTES = 16 * 1024;

/**
 * Compresses a JSON answer with gzip or deflate when the client accepts it
 * and it is at least `minBytes` long (0: never), at the fastest level:
 * fetch and browsers ask for gzip by default, and on a short path
 * compressing a small answer costs more time than it saves.
 */
export function compressIfAccepted(
  body: Uint8Array | string,
  headers: Record<string, string>,
  accept: string | null,
  minBytes: number,
): Response {
  const size = typeof body === "string" ? body.length : body.byteLength;
  const wanted = accept ? pickEncoding(accept) : undefined;
  if (!wanted || minBytes === 0 || size < minBytes) return new Response(body, { headers });
  const compressed = wanted === "gzip" ? gzipSync(body, { level: 1 }) : deflateSync(body, { level: 1 });
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
