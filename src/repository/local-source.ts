import { randomBytes } from "node:crypto";
import { open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { FerryError } from "../core/errors.ts";
import { checkDigest, digestFile, sha256Hex, sha256OfJson } from "./digest.ts";
import {
  type FileDigest,
  formatManifest,
  MANIFEST_FILE,
  type PromotionManifest,
  parseManifest,
} from "./manifest.ts";
import { filesToPin, manifestConflict, type PromotionStore, type StoredManifest } from "./promotion-store.ts";
import {
  isSafeModelName,
  isVersionDirName,
  type LocalVersionDir,
  type ModelListing,
  type ModelSource,
  type PinnedFiles,
  stampVersions,
  versionFiles,
} from "./source.ts";

interface FileStat {
  path: string;
  size: number;
  mtimeMs: number;
}

/** A model repository on local disk; a model's promotion.json, when present, decides what serves. */
export class LocalSource implements ModelSource, PromotionStore {
  readonly location: string;
  private readonly root: string;
  private readonly digests = new Map<string, { stamp: string; digest: FileDigest }>();

  constructor(root: string) {
    this.location = root;
    this.root = resolve(root);
  }

  async list(): Promise<string[]> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (error) {
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `cannot read model repository ${this.location}: ${reason(error)}`,
      );
    }
    const names: string[] = [];
    for (const entry of entries) {
      if (!isSafeModelName(entry.name)) continue;
      if (
        entry.isDirectory() ||
        (entry.isSymbolicLink() && (await isDirectory(join(this.root, entry.name))))
      ) {
        names.push(entry.name);
      }
    }
    return names.sort();
  }

  async describe(model: string): Promise<ModelListing> {
    const dir = this.modelDir(model);
    if (!(await isDirectory(dir))) {
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `model '${model}' is not in repository ${this.location}`,
      );
    }
    const files = await walk(dir);
    const emptyOrNot: number[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (isVersionDirName(entry.name) && (await isDirectory(join(dir, entry.name))))
        emptyOrNot.push(Number(entry.name));
    }
    const configPath = join(dir, "config.pbtxt");
    const configBytes = await readOptional(configPath);
    const { manifest } = await this.readManifest(model);
    const versionStamps = stampVersions(files, emptyOrNot);
    const listing: ModelListing = {
      name: model,
      configText: configBytes && new TextDecoder().decode(configBytes),
      configSource: join(this.location, model, "config.pbtxt"),
      versions: [...versionStamps.keys()].sort((a, b) => a - b),
      fingerprint: sha256OfJson(files),
      versionStamps,
    };
    if (configBytes) listing.configDigest = { sha256: sha256Hex(configBytes), size: configBytes.byteLength };
    if (manifest) listing.manifest = manifest;
    return listing;
  }

  async materialize(model: string, version: string, pinned?: PinnedFiles): Promise<LocalVersionDir> {
    const path = join(this.modelDir(model), version);
    let files: string[];
    try {
      files = (await walk(path)).map((file) => file.path).sort();
    } catch (error) {
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `model '${model}' version ${version}: ${reason(error)}`,
      );
    }
    if (pinned) await this.checkPinned(model, version, path, files, pinned);
    return { path, files };
  }

  /** A version under a manifest is exactly its pinned files, each with its pinned sha256. */
  private async checkPinned(
    model: string,
    version: string,
    path: string,
    files: string[],
    pinned: PinnedFiles,
  ): Promise<void> {
    const expected = versionFiles(pinned, version);
    const extra = files.filter((file) => !expected.has(file));
    if (extra.length > 0) {
      throw new FerryError(
        "FAILED_PRECONDITION",
        "repository",
        `model '${model}' version ${version} has files the promotion manifest does not pin: ${extra.join(", ")}`,
      );
    }
    for (const [file, digest] of expected) {
      const where = join(this.location, model, version, file);
      if (!files.includes(file)) {
        throw new FerryError(
          "NOT_FOUND",
          "repository",
          `${where}: pinned by the promotion manifest but missing`,
        );
      }
      checkDigest(where, await this.digest(join(path, file)), digest);
    }
  }

  async readModelFile(
    model: string,
    relativePath: string,
    pinned?: FileDigest,
  ): Promise<Uint8Array | undefined> {
    const path = this.insideModel(model, relativePath);
    const bytes = await readOptional(path);
    if (bytes && pinned) checkDigest(path, { sha256: sha256Hex(bytes), size: bytes.byteLength }, pinned);
    return bytes;
  }

  async readManifest(model: string): Promise<StoredManifest> {
    const path = join(this.modelDir(model), MANIFEST_FILE);
    const bytes = await readOptional(path);
    if (!bytes) return { manifest: undefined, etag: undefined };
    const source = join(this.location, model, MANIFEST_FILE);
    return {
      manifest: parseManifest(new TextDecoder().decode(bytes), source, model),
      etag: sha256Hex(bytes),
    };
  }

  /**
   * Compare-and-swap on the file's sha256, under an exclusive lock file so
   * two promoters on one host cannot interleave; the new text lands by rename.
   */
  async writeManifest(
    model: string,
    manifest: PromotionManifest,
    expectedEtag: string | undefined,
  ): Promise<void> {
    const dir = this.modelDir(model);
    const path = join(dir, MANIFEST_FILE);
    const lockPath = `${path}.lock`;
    let lock: import("node:fs/promises").FileHandle;
    try {
      lock = await open(lockPath, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST")
        throw manifestConflict(path, "another promotion holds its lock");
      throw new FerryError("UNAVAILABLE", "repository", `cannot lock ${path}: ${reason(error)}`);
    }
    try {
      const current = await readOptional(path);
      const currentEtag = current && sha256Hex(current);
      if (currentEtag !== expectedEtag) throw manifestConflict(path, "it changed since it was read");
      const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
      await writeFile(temp, formatManifest(manifest));
      await rename(temp, path);
    } finally {
      await lock.close();
      await rm(lockPath, { force: true });
    }
  }

  async digestFiles(model: string, version: string): Promise<PinnedFiles> {
    const dir = this.modelDir(model);
    const files = filesToPin(await walk(dir), model, version, this.location);
    const pinned: PinnedFiles = {};
    for (const file of files) pinned[file.path] = await digestFile(join(dir, file.path));
    return pinned;
  }

  /**
   * A file's digest, hashed again only when its inode, size, modification
   * or change time moved: planning and loading a version both check it, and a poll that
   * reloads a model should not re-read gigabytes that did not change.
   */
  private async digest(path: string): Promise<FileDigest> {
    const info = await stat(path);
    const known = this.digests.get(path);
    const stamp = `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
    if (known?.stamp === stamp) return known.digest;
    const digest = await digestFile(path);
    this.digests.set(path, { stamp, digest });
    return digest;
  }

  private insideModel(model: string, relativePath: string): string {
    const dir = this.modelDir(model);
    const path = resolve(dir, relativePath);
    if (relative(dir, path).startsWith("..") || !path.startsWith(dir + sep)) {
      throw new FerryError("INVALID_ARGUMENT", "repository", `'${relativePath}' is outside model '${model}'`);
    }
    return path;
  }

  private modelDir(model: string): string {
    if (!isSafeModelName(model))
      throw new FerryError("INVALID_ARGUMENT", "repository", `invalid model name '${model}'`);
    return join(this.root, model);
  }
}

/** Every file under `dir` (following symlinks), with paths relative to it using "/"; dotfiles skipped. */
async function walk(dir: string, prefix = ""): Promise<FileStat[]> {
  const found: FileStat[] = [];
  for (const name of (await readdir(join(dir, prefix))).sort()) {
    if (name.startsWith(".")) continue;
    const path = prefix ? `${prefix}/${name}` : name;
    const info = await stat(join(dir, path)).catch(() => undefined);
    if (!info) continue;
    if (info.isDirectory()) found.push(...(await walk(dir, path)));
    else if (info.isFile()) found.push({ path, size: info.size, mtimeMs: info.mtimeMs });
  }
  return found;
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new FerryError("UNAVAILABLE", "repository", `cannot read ${path}: ${reason(error)}`);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
