import { gunzipSync, inflateSync } from "node:zlib";
import { FerryError, invalidArgument } from "../../core/errors.ts";

/**
 * Reads a request body, refusing more than `limit` bytes before buffering
 * them (from Content-Length, or while streaming a chunked body), and
 * undoes gzip/deflate Content-Encoding within the same limit.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(Number(declared), limit);
  const raw =
    declared !== null ? new Uint8Array(await request.arrayBuffer()) : await readStream(request, limit);
  if (raw.byteLength > limit) throw tooLarge(raw.byteLength, limit);
  return decode(raw, request.headers.get("content-encoding"), limit);
}

async function readStream(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
    total += chunk.byteLength;
    if (total > limit) throw tooLarge(total, limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function decode(raw: Uint8Array, encoding: string | null, limit: number): Uint8Array {
  const kind = encoding?.trim().toLowerCase() ?? "identity";
  if (kind === "identity" || kind === "") return raw;
  if (kind !== "gzip" && kind !== "deflate") {
    throw new FerryError(
      "UNIMPLEMENTED",
      "protocol",
      `Content-Encoding '${encoding}' is not supported (gzip, deflate, identity)`,
    );
  }
  try {
    const inflate = kind === "gzip" ? gunzipSync : inflateSync;
    return new Uint8Array(inflate(raw, { maxOutputLength: limit }));
  } catch (error) {
    if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw tooLarge(limit + 1, limit, "decompressed ");
    }
    throw invalidArgument("protocol", `body is not valid ${kind} data: ${(error as Error).message}`);
  }
}

function tooLarge(size: number, limit: number, what = ""): FerryError {
  return new FerryError(
    "RESOURCE_EXHAUSTED",
    "protocol",
    `${what}request body of ${size} bytes exceeds the limit of ${limit} bytes (--http-max-input-size)`,
  );
}
