import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { FerryError } from "../core/errors.ts";
import type { FileDigest } from "./manifest.ts";

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A short stable identity of a JSON-able value (listings, plans, file sets). */
export function sha256OfJson(value: unknown): string {
  return sha256Hex(new TextEncoder().encode(JSON.stringify(value)));
}

/** sha256 and size of a stream of bytes. */
export async function digestChunks(chunks: AsyncIterable<Uint8Array>): Promise<FileDigest> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of chunks) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest("hex"), size };
}

/** sha256 and size of a file on disk, streamed. */
export function digestFile(path: string): Promise<FileDigest> {
  return digestChunks(createReadStream(path));
}

/** Throws a repository error naming the file when its digest is not the pinned one. */
export function checkDigest(where: string, actual: FileDigest, expected: FileDigest): void {
  if (actual.sha256 !== expected.sha256 || actual.size !== expected.size) {
    throw new FerryError(
      "FAILED_PRECONDITION",
      "repository",
      `${where}: checksum mismatch: sha256 ${actual.sha256} (${actual.size} bytes), the manifest pins ${expected.sha256} (${expected.size} bytes)`,
    );
  }
}
