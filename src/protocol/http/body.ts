import { promisify } from "node:util";
import { gunzip, inflate } from "node:zlib";
import { FerryError, invalidArgument } from "../../core/errors.ts";
import type { Share } from "./inflight.ts";

/** Off the event loop: a large body inflates in zlib's thread pool, not in front of health probes. */
const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export interface BodyLimit {
  /** Most bytes the body may hold, as sent and after decompression. */
  bytes: number;
  /** The flag that set `bytes`, named in the error. */
  flag: string;
  /** Said after the flag, e.g. what to do instead. */
  hint?: string;
  /** This request's share of --http-max-inflight-bytes. */
  share: Share;
}

/**
 * Reads a request body, refusing more than `limit.bytes` before buffering
 * them (from Content-Length, or while streaming a chunked body), and
 * undoes gzip/deflate Content-Encoding within the same limit. Every byte
 * held is counted against the request's share of the in-flight budget.
 */
export async function readBody(request: Request, limit: BodyLimit): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit.bytes) throw tooLarge(Number(declared), limit);
  if (declared !== null) limit.share.take(Number(declared));
  const raw =
    declared !== null ? new Uint8Array(await request.arrayBuffer()) : await readStream(request, limit);
  if (raw.byteLength > limit.bytes) throw tooLarge(raw.byteLength, limit);
  return decode(raw, request.headers.get("content-encoding"), limit);
}

async function readStream(request: Request, limit: BodyLimit): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
    total += chunk.byteLength;
    if (total > limit.bytes) throw tooLarge(total, limit);
    limit.share.take(chunk.byteLength);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function decode(raw: Uint8Array, encoding: string | null, limit: BodyLimit): Promise<Uint8Array> {
  const kind = encoding?.trim().toLowerCase() ?? "identity";
  if (kind === "identity" || kind === "") return raw;
  if (kind !== "gzip" && kind !== "deflate") {
    throw new FerryError(
      "UNIMPLEMENTED",
      "protocol",
      `Content-Encoding '${encoding}' is not supported (gzip, deflate, identity)`,
    );
  }
  let decoded: Uint8Array;
  try {
    const undo = kind === "gzip" ? gunzipAsync : inflateAsync;
    decoded = new Uint8Array(await undo(raw, { maxOutputLength: limit.bytes }));
  } catch (error) {
    if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw tooLarge(limit.bytes + 1, limit, "decompressed ");
    }
    throw invalidArgument("protocol", `body is not valid ${kind} data: ${(error as Error).message}`);
  }
  limit.share.take(decoded.byteLength);
  return decoded;
}

function tooLarge(size: number, limit: BodyLimit, what = ""): FerryError {
  return new FerryError(
    "RESOURCE_EXHAUSTED",
    "protocol",
    `${what}request body of ${size} bytes exceeds the limit of ${limit.bytes} bytes (${limit.flag})${limit.hint ?? ""}`,
  );
}
