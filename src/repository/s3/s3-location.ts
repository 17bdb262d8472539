import { FerryError } from "../../core/errors.ts";

/** Where a repository lives in S3, from its `s3://` URL. */
export interface S3Location {
  bucket: string;
  /** Key prefix ending in "/", or "" for the bucket root. */
  prefix: string;
  /** Endpoint named in the URL (`s3://host:port/...`), else undefined: AWS's for the region. */
  endpoint: string | undefined;
  /** The URL as given, for messages. */
  url: string;
}

/**
 * Parses tritonserver's S3 repository forms: `s3://bucket/path`,
 * `s3://host:port/bucket/path` (an S3-compatible endpoint over HTTP) and
 * `s3://https://host:port/bucket/path` (over HTTPS).
 */
export function parseS3Url(url: string): S3Location {
  if (!url.startsWith("s3://")) throw invalid(url, "must start with s3://");
  let rest = url.slice("s3://".length);
  let endpoint: string | undefined;
  const scheme = /^(https?):\/\//.exec(rest);
  const hostPort = /^([^/]+:[0-9]+)\//.exec(scheme ? rest.slice(scheme[0].length) : rest);
  if (scheme && !hostPort) throw invalid(url, `expected ${scheme[1]}://host:port/bucket/path`);
  if (hostPort) {
    endpoint = `${scheme?.[1] ?? "http"}://${hostPort[1]}`;
    rest = (scheme ? rest.slice(scheme[0].length) : rest).slice(hostPort[0].length);
  }
  const [bucket = "", ...path] = rest.split("/");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw invalid(url, `'${bucket}' is not a valid bucket name (3-63 lowercase letters, digits, '.', '-')`);
  }
  const parts = path.filter((part) => part !== "");
  if (parts.some((part) => part === "." || part === ".."))
    throw invalid(url, "the path may not contain '.' or '..'");
  return { bucket, prefix: parts.length > 0 ? `${parts.join("/")}/` : "", endpoint, url };
}

function invalid(url: string, why: string): FerryError {
  return new FerryError("INVALID_ARGUMENT", "repository", `model repository '${url}': ${why}`);
}
