import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";

/** A file's size in bytes; throws when it is missing. */
export function fileSize(path: string): number {
  return statSync(path).size;
}

/** A whole file's bytes. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const buffer = await readFile(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
