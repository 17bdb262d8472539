import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { FerryError } from "../../core/errors.ts";
import { readFileBytes } from "../../runtime/files.ts";
import type { ArtifactCache, CachedFile } from "../artifact-cache.ts";
import { digestChunks, sha256Hex, sha256OfJson } from "../digest.ts";
import {
  type FileDigest,
  formatManifest,
  MANIFEST_FILE,
  type PromotionManifest,
  parseManifest,
} from "../manifest.ts";
import {
  filesToPin,
  manifestConflict,
  type PromotionStore,
  type StoredManifest,
} from "../promotion-store.ts";
import {
  isSafeModelName,
  type LocalVersionDir,
  type ModelListing,
  type ModelSource,
  type PinnedFiles,
  stampVersions,
  versionFiles,
} from "../source.ts";
import { connectS3, type S3Connection, s3Failure } from "./s3-client.ts";
import { parseS3Url } from "./s3-location.ts";
import type { S3Settings } from "./s3-settings.ts";

interface S3Object {
  /** Path relative to the model directory. */
  path: string;
  key: string;
  etag: string;
  size: number;
}

/**
 * A model repository in an S3 bucket (or an S3-compatible store), in
 * Triton's layout. Version files are downloaded into the checksum-addressed
 * artifact cache and handed to backends as a local directory; config.pbtxt
 * and promotion.json are re-read only when their ETag changes.
 */
export class S3Source implements ModelSource, PromotionStore {
  readonly location: string;
  private readonly connection: S3Connection;
  private readonly small = new Map<string, { etag: string; bytes: Uint8Array }>();

  constructor(
    url: string,
    settings: S3Settings,
    private readonly cache: ArtifactCache,
  ) {
    this.connection = connectS3(parseS3Url(url), settings);
    this.location = this.connection.location.url;
  }

  /** For tests and middleware: the SDK client. */
  get client() {
    return this.connection.client;
  }

  /** Aborts what is in flight and closes the client's connections (a test's s3rver waits for them otherwise). */
  close(): void {
    this.connection.closing.abort();
    this.connection.client.destroy();
  }

  /**
   * Model names from every key under the prefix, without a delimiter: some
   * stores (s3rver) list no common prefix for a directory that holds only
   * subdirectories, e.g. a model with version folders and no config.pbtxt.
   */
  async list(): Promise<string[]> {
    const { bucket, prefix } = this.connection.location;
    const names = new Set<string>();
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.send(
        () =>
          this.connection.client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
          ),
        `cannot list ${this.location}`,
      );
      for (const item of page.Contents ?? []) {
        const [name = "", ...rest] = (item.Key ?? "").slice(prefix.length).split("/");
        if (rest.length > 0 && isSafeModelName(name)) names.add(name);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return [...names].sort();
  }

  async describe(model: string): Promise<ModelListing> {
    const objects = await this.objects(model, "");
    if (objects.length === 0) {
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `model '${model}' is not in repository ${this.location}`,
      );
    }
    const config = objects.find((object) => object.path === "config.pbtxt");
    const configBytes = config && (await this.readSmall(config));
    const manifestObject = objects.find((object) => object.path === MANIFEST_FILE);
    const versionStamps = stampVersions(objects);
    const listing: ModelListing = {
      name: model,
      configText: configBytes && new TextDecoder().decode(configBytes),
      configSource: this.url(model, "config.pbtxt"),
      versions: [...versionStamps.keys()].sort((a, b) => a - b),
      fingerprint: sha256OfJson(objects),
      versionStamps,
    };
    if (configBytes) listing.configDigest = { sha256: sha256Hex(configBytes), size: configBytes.byteLength };
    if (manifestObject) {
      const text = new TextDecoder().decode(await this.readSmall(manifestObject));
      listing.manifest = parseManifest(text, this.url(model, MANIFEST_FILE), model);
    }
    return listing;
  }

  async materialize(model: string, version: string, pinned?: PinnedFiles): Promise<LocalVersionDir> {
    const objects = await this.objects(model, `${version}/`);
    const present = new Map(objects.map((object) => [object.path.slice(version.length + 1), object]));
    const wanted = pinned
      ? versionFiles(pinned, version)
      : new Map([...present.keys()].map((path) => [path, undefined]));
    if (wanted.size === 0) {
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `model '${model}' version ${version}: no files at ${this.url(model, `${version}/`)}`,
      );
    }
    const files = new Map<string, CachedFile>();
    await Promise.all(
      [...wanted].map(async ([path, expected]) => {
        const object = present.get(path);
        if (!object) {
          throw new FerryError(
            "NOT_FOUND",
            "repository",
            `${this.url(model, `${version}/${path}`)}: pinned by the promotion manifest but missing`,
          );
        }
        files.set(path, await this.download(object, expected));
      }),
    );
    const { bucket, prefix } = this.connection.location;
    const path = await this.cache.tree(`${bucket}/${prefix}${model}/${version}`, files);
    return { path, files: [...files.keys()].sort() };
  }

  async readModelFile(
    model: string,
    relativePath: string,
    pinned?: FileDigest,
  ): Promise<Uint8Array | undefined> {
    const parts = relativePath.split("/");
    if (parts.some((part) => part === ".." || part === "." || part === "") || relativePath.startsWith("/")) {
      throw new FerryError("INVALID_ARGUMENT", "repository", `'${relativePath}' is outside model '${model}'`);
    }
    const object = (await this.objects(model, relativePath)).find((found) => found.path === relativePath);
    if (!object) return undefined;
    const file = await this.download(object, pinned);
    return readFileBytes(file.path);
  }

  async readManifest(model: string): Promise<StoredManifest> {
    const key = this.key(model, MANIFEST_FILE);
    try {
      const got = await this.connection.client.send(
        new GetObjectCommand({ Bucket: this.connection.location.bucket, Key: key }),
      );
      const text = await got.Body?.transformToString();
      return { manifest: parseManifest(text ?? "", this.url(model, MANIFEST_FILE), model), etag: got.ETag };
    } catch (error) {
      if ((error as { name?: string }).name === "NoSuchKey") return { manifest: undefined, etag: undefined };
      throw s3Failure(error, this.connection, `cannot read ${this.url(model, MANIFEST_FILE)}`);
    }
  }

  /** A conditional PutObject: If-Match the ETag read, or If-None-Match * for the first manifest. */
  async writeManifest(
    model: string,
    manifest: PromotionManifest,
    expectedEtag: string | undefined,
  ): Promise<void> {
    const where = this.url(model, MANIFEST_FILE);
    try {
      await this.connection.client.send(
        new PutObjectCommand({
          Bucket: this.connection.location.bucket,
          Key: this.key(model, MANIFEST_FILE),
          Body: formatManifest(manifest),
          ContentType: "application/json",
          ...(expectedEtag === undefined ? { IfNoneMatch: "*" } : { IfMatch: expectedEtag }),
        }),
      );
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) {
        throw manifestConflict(
          where,
          expectedEtag === undefined ? "another promoter created it first" : "it changed since it was read",
        );
      }
      throw s3Failure(error, this.connection, `cannot write ${where}`);
    }
  }

  /** Streams every file once through sha256 (nothing is kept). */
  async digestFiles(model: string, version: string): Promise<PinnedFiles> {
    const objects = filesToPin(await this.objects(model, ""), model, version, this.location);
    const pinned: PinnedFiles = {};
    for (const object of objects) {
      const stream = await this.openObject(object);
      pinned[object.path] = await digestChunks(stream as unknown as AsyncIterable<Uint8Array>);
    }
    return pinned;
  }

  private download(object: S3Object, expected: FileDigest | undefined): Promise<CachedFile> {
    return this.cache.fetch({
      url: `s3://${this.connection.location.bucket}/${object.key}`,
      etag: object.etag,
      size: object.size,
      // A single-part upload's ETag is its MD5: it tells damage in transit from a bad stored object.
      ...(/^"?[0-9a-f]{32}"?$/.test(object.etag) ? { md5: object.etag.replaceAll('"', "") } : {}),
      expected,
      open: () => this.openObject(object),
    });
  }

  private async openObject(object: S3Object): Promise<ReadableStream<Uint8Array>> {
    const got = await this.send(
      () =>
        this.connection.client.send(
          new GetObjectCommand({
            Bucket: this.connection.location.bucket,
            Key: object.key,
            IfMatch: object.etag,
          }),
        ),
      `cannot download s3://${this.connection.location.bucket}/${object.key}`,
    );
    if (!got.Body)
      throw new FerryError(
        "UNAVAILABLE",
        "repository",
        `s3://${this.connection.location.bucket}/${object.key}: empty response`,
      );
    return got.Body.transformToWebStream() as ReadableStream<Uint8Array>;
  }

  /** Small objects (config, manifest) are fetched again only when their ETag changed. */
  private async readSmall(object: S3Object): Promise<Uint8Array> {
    const known = this.small.get(object.key);
    if (known?.etag === object.etag) return known.bytes;
    const got = await this.send(
      () =>
        this.connection.client.send(
          new GetObjectCommand({ Bucket: this.connection.location.bucket, Key: object.key }),
        ),
      `cannot read s3://${this.connection.location.bucket}/${object.key}`,
    );
    const bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array();
    this.small.set(object.key, { etag: got.ETag ?? object.etag, bytes });
    return bytes;
  }

  /** Every object under the model's directory (or a sub-path of it). */
  private async objects(model: string, under: string): Promise<S3Object[]> {
    const base = this.key(model, "");
    const objects: S3Object[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.send(
        () =>
          this.connection.client.send(
            new ListObjectsV2Command({
              Bucket: this.connection.location.bucket,
              Prefix: base + under,
              ContinuationToken: token,
            }),
          ),
        `cannot list ${this.url(model, under)}`,
      );
      for (const item of page.Contents ?? []) {
        if (!item.Key || item.Key.endsWith("/")) continue;
        objects.push({
          path: item.Key.slice(base.length),
          key: item.Key,
          etag: item.ETag ?? "",
          size: item.Size ?? 0,
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  private async send<T>(call: () => Promise<T>, what: string): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw s3Failure(error, this.connection, what);
    }
  }

  private key(model: string, path: string): string {
    if (!isSafeModelName(model))
      throw new FerryError("INVALID_ARGUMENT", "repository", `invalid model name '${model}'`);
    return `${this.connection.location.prefix}${model}/${path}`;
  }

  private url(model: string, path: string): string {
    return `s3://${this.connection.location.bucket}/${this.key(model, path)}`;
  }
}
