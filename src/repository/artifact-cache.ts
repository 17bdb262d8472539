import { createHash, randomBytes } from "node:crypto";
import { copyFile, link, mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FerryError } from "../core/errors.ts";
import { checkDigest, sha256Hex, sha256OfJson } from "./digest.ts";
import type { FileDigest } from "./manifest.ts";

/** Files over this size log their download progress. */
const PROGRESS_BYTES = 4 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 1000;

export interface Download {
  /** For messages: "s3://bucket/models/m/3/model.onnx". */
  url: string;
  /** The object's version tag in its store; with `url` it finds an earlier download. */
  etag: string;
  /** The size the store reports, for progress. */
  size?: number;
  /** The object's MD5 as the store reports it (a single-part S3 ETag), when known. */
  md5?: string;
  /** sha256 and size the bytes must have (from a promotion manifest). */
  expected?: FileDigest;
  open(): Promise<ReadableStream<Uint8Array>>;
}

export interface CachedFile extends FileDigest {
  path: string;
}

/**
 * Downloaded artifacts addressed by sha256 under `<dir>/blobs`. A download
 * streams into a temp file while hashing and is renamed into place only
 * once its digest matched, so a blob is always whole and verified. A blob
 * already there is not downloaded again (found by pinned sha256, or by
 * the object's url+etag); concurrent requests for one artifact share one
 * download.
 */
export class ArtifactCache {
  private readonly inFlight = new Map<string, Promise<CachedFile>>();

  constructor(
    readonly dir: string,
    private readonly log: (message: string) => void,
  ) {}

  /** How many downloads ran (for tests and logs). */
  downloads = 0;

  async fetch(download: Download): Promise<CachedFile> {
    const found = await this.lookup(download);
    if (found) return found;
    const key = download.expected?.sha256 ?? `${download.url}#${download.etag}`;
    let running = this.inFlight.get(key);
    if (!running) {
      running = this.download(download).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    return running;
  }

  /**
   * A directory holding `files` (relative path → blob) as hard links (copies
   * where links fail), built once under a temp name and renamed into place.
   */
  async tree(name: string, files: Map<string, CachedFile>): Promise<string> {
    const listing = [...files.entries()].sort(([a], [b]) => a.localeCompare(b));
    const id = sha256OfJson(listing.map(([path, file]) => [path, file.sha256]));
    const path = join(this.dir, "trees", name, id.slice(0, 16));
    if (await exists(path)) return path;
    const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    for (const [relative, file] of listing) {
      const target = join(temp, relative);
      await mkdir(dirname(target), { recursive: true });
      await link(file.path, target).catch(() => copyFile(file.path, target));
    }
    await mkdir(temp, { recursive: true });
    await rename(temp, path).catch(async (error: NodeJS.ErrnoException) => {
      // Another load built the same tree first: use that one.
      await rm(temp, { recursive: true, force: true });
      if (!(await exists(path))) throw error;
    });
    return path;
  }

  private blobPath(sha256: string): string {
    return join(this.dir, "blobs", sha256.slice(0, 2), sha256);
  }

  private indexPath(download: Download): string {
    return join(this.dir, "etags", sha256Hex(new TextEncoder().encode(`${download.url}#${download.etag}`)));
  }

  private async lookup(download: Download): Promise<CachedFile | undefined> {
    let digest = download.expected;
    if (!digest) {
      const text = await readFile(this.indexPath(download), "utf8").catch(() => undefined);
      const [sha256, size] = text?.trim().split(" ") ?? [];
      if (!sha256 || size === undefined) return undefined;
      digest = { sha256, size: Number(size) };
    }
    const path = this.blobPath(digest.sha256);
    const info = await stat(path).catch(() => undefined);
    return info?.size === digest.size ? { ...digest, path } : undefined;
  }

  private async download(download: Download): Promise<CachedFile> {
    this.downloads++;
    const tempDir = join(this.dir, "tmp");
    await mkdir(tempDir, { recursive: true });
    const temp = join(tempDir, randomBytes(8).toString("hex"));
    const hash = createHash("sha256");
    const md5 = download.md5 === undefined ? undefined : createHash("md5");
    const progress = new Progress(download, this.log);
    const file = await open(temp, "w");
    try {
      const reader = (await download.open()).getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        hash.update(chunk.value);
        md5?.update(chunk.value);
        await file.write(chunk.value);
        progress.add(chunk.value.byteLength);
      }
    } catch (error) {
      await file.close();
      await rm(temp, { force: true });
      throw error;
    }
    await file.close();
    const digest = { sha256: hash.digest("hex"), size: progress.bytes };
    try {
      checkStored(download, digest.size, md5?.digest("hex"));
      if (download.expected) checkPin(download, digest, download.expected);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    const path = this.blobPath(digest.sha256);
    await mkdir(dirname(path), { recursive: true });
    await rename(temp, path);
    progress.done();
    const index = this.indexPath(download);
    await mkdir(dirname(index), { recursive: true });
    const indexTemp = `${index}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(indexTemp, `${digest.sha256} ${digest.size}\n`);
    await rename(indexTemp, index);
    return { ...digest, path };
  }
}

/**
 * Bytes that differ from what the store reports it holds (size, MD5) were
 * damaged in transit: a transient failure, retried on the next poll.
 */
function checkStored(download: Download, size: number, md5: string | undefined): void {
  const sizeDiffers = download.size !== undefined && size !== download.size;
  if (!sizeDiffers && md5 === download.md5) return;
  throw new FerryError(
    "UNAVAILABLE",
    "repository",
    `${download.url}: damaged in transit: got ${size} bytes${md5 ? ` with MD5 ${md5}` : ""}, the store holds ${download.size ?? "?"} bytes with ETag ${download.etag}; retried`,
  );
}

/**
 * A download that matched the store's MD5 yet not its pin is wrong at
 * rest: not retried until the manifest or the object changes. Without an
 * MD5 to compare (multipart ETag) the mismatch may be transient.
 */
function checkPin(download: Download, actual: FileDigest, expected: FileDigest): void {
  try {
    checkDigest(download.url, actual, expected);
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
    if (download.md5 === undefined)
      throw new FerryError(
        "UNAVAILABLE",
        "repository",
        `${error.detail} (could be damage in transit: retried)`,
      );
    throw new FerryError(
      "FAILED_PRECONDITION",
      "repository",
      `${error.detail}; the stored object (ETag ${download.etag}) does not match its pin: retried once the manifest or the object changes`,
    );
  }
}

/** Logs bytes and rate about once a second for large downloads. */
class Progress {
  bytes = 0;
  private readonly started = performance.now();
  private lastLog = this.started;

  constructor(
    private readonly download: Download,
    private readonly log: (message: string) => void,
  ) {}

  add(bytes: number): void {
    this.bytes += bytes;
    const now = performance.now();
    if ((this.download.size ?? 0) >= PROGRESS_BYTES && now - this.lastLog >= PROGRESS_INTERVAL_MS) {
      this.lastLog = now;
      this.log(`downloading ${this.download.url}: ${this.describe(now)}`);
    }
  }

  done(): void {
    if (this.bytes >= PROGRESS_BYTES)
      this.log(`downloaded ${this.download.url}: ${this.describe(performance.now())}`);
  }

  private describe(now: number): string {
    const seconds = Math.max((now - this.started) / 1000, 1e-3);
    const total = this.download.size ? ` of ${megabytes(this.download.size)}` : "";
    return `${megabytes(this.bytes)}${total} in ${seconds.toFixed(1)} s (${megabytes(this.bytes / seconds)}/s)`;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
