import { FerryError } from "../core/errors.ts";
import { isVersionFile, MANIFEST_FILE, type PromotionManifest } from "./manifest.ts";
import type { PinnedFiles } from "./source.ts";

export interface StoredManifest {
  manifest: PromotionManifest | undefined;
  /** The stored object's version tag, for the conditional write; undefined when there is none. */
  etag: string | undefined;
}

/** Where `ferry promote` and `ferry rollback` read and write promotion manifests. */
export interface PromotionStore {
  readonly location: string;
  readManifest(model: string): Promise<StoredManifest>;
  /**
   * Writes the manifest only if the stored one still has `expectedEtag`
   * (undefined: only if there is none yet); otherwise throws a conflict, so
   * of two promoters that read the same manifest exactly one wins.
   */
  writeManifest(model: string, manifest: PromotionManifest, expectedEtag: string | undefined): Promise<void>;
  /** sha256 and size of config.pbtxt, every file of the version, and the model's other files. */
  digestFiles(model: string, version: string): Promise<PinnedFiles>;
}

/**
 * What `ferry promote` pins for a version: its own files, config.pbtxt and
 * the model's other files — not other versions' files, nor the manifest
 * and its lock and temp files.
 */
export function filesToPin<T extends { path: string }>(
  files: T[],
  model: string,
  version: string,
  location: string,
): T[] {
  const pinned = files.filter(
    (file) =>
      file.path !== MANIFEST_FILE &&
      !file.path.startsWith(`${MANIFEST_FILE}.`) &&
      (file.path.startsWith(`${version}/`) || !isVersionFile(file.path)),
  );
  if (!pinned.some((file) => file.path.startsWith(`${version}/`))) {
    throw new FerryError(
      "NOT_FOUND",
      "repository",
      `model '${model}' has no version ${version} in ${location}`,
    );
  }
  return pinned;
}

export function manifestConflict(where: string, why: string): FerryError {
  return new FerryError(
    "FAILED_PRECONDITION",
    "repository",
    `promotion conflict on ${where}: ${why}; nothing was written, read the manifest again and retry`,
  );
}
