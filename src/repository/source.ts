import { sha256OfJson } from "./digest.ts";
import type { FileDigest, PromotionManifest } from "./manifest.ts";

/** What a repository knows about one model before anything is loaded. */
export interface ModelListing {
  name: string;
  /** config.pbtxt text, or undefined when the model has none (auto-complete). */
  configText: string | undefined;
  /** Where the config lives, for error messages ("models/simple/config.pbtxt"). */
  configSource: string;
  /** sha256 and size of config.pbtxt as stored, when there is one. */
  configDigest?: FileDigest;
  /** Numeric version directories present, ascending. */
  versions: number[];
  /** The model's promotion manifest, when it has one: it then decides what serves. */
  manifest?: PromotionManifest;
  /** Changes whenever anything under the model directory changes (poll mode compares it). */
  fingerprint: string;
  /** Per version directory: changes whenever one of its files changes. */
  versionStamps: Map<number, string>;
}

/** A version's files on local disk, ready for a backend to open. */
export interface LocalVersionDir {
  path: string;
  files: string[];
}

/** sha256 and size per file, keyed by path relative to the model directory ("3/model.onnx"). */
export type PinnedFiles = Record<string, FileDigest>;

/**
 * A model repository: local directory or object store, in Triton's layout
 * (`<model>/config.pbtxt`, `<model>/<version>/<files>`).
 */
export interface ModelSource {
  /** Human-readable location, e.g. the directory path. */
  readonly location: string;
  list(): Promise<string[]>;
  describe(model: string): Promise<ModelListing>;
  /**
   * The version's files on local disk. With `pinned` (from a promotion
   * manifest) the version is exactly those files, each checked against its
   * sha256 before this resolves.
   */
  materialize(model: string, version: string, pinned?: PinnedFiles): Promise<LocalVersionDir>;
  /** A file beside config.pbtxt (labels, warm-up data), or undefined if absent; checked when pinned. */
  readModelFile(model: string, relativePath: string, pinned?: FileDigest): Promise<Uint8Array | undefined>;
  /** Releases connections (S3), at shutdown. */
  close?(): void;
}

/** Version directory names: positive integers without leading zeros; anything else is ignored. */
export function isVersionDirName(name: string): boolean {
  return /^[1-9][0-9]*$/.test(name);
}

/** Model names that cannot escape the repository or hide as dotfiles. */
export function isSafeModelName(name: string): boolean {
  return name.length > 0 && !name.startsWith(".") && !/[/\\\0]/.test(name);
}

/**
 * A stamp per version directory from its files' listing entries (path and
 * size/time or ETag), for poll mode; `versions` adds directories with no file.
 */
export function stampVersions(
  files: { path: string }[],
  versions: Iterable<number> = [],
): Map<number, string> {
  const numbers = new Set(versions);
  for (const file of files) {
    const [head = "", ...rest] = file.path.split("/");
    if (isVersionDirName(head) && rest.length > 0) numbers.add(Number(head));
  }
  const stamps = new Map<number, string>();
  for (const version of [...numbers].sort((a, b) => a - b)) {
    stamps.set(version, sha256OfJson(files.filter((file) => file.path.startsWith(`${version}/`))));
  }
  return stamps;
}

/** The pinned files of one version directory, keyed by their path inside it. */
export function versionFiles(pinned: PinnedFiles, version: string): Map<string, FileDigest> {
  const prefix = `${version}/`;
  return new Map(
    Object.entries(pinned)
      .filter(([path]) => path.startsWith(prefix))
      .map(([path, digest]) => [path.slice(prefix.length), digest]),
  );
}
