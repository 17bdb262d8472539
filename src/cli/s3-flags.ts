import { DEFAULT_S3_SETTINGS, type S3Settings } from "../repository/s3/s3-settings.ts";
import { FlagError, type FlagSpec, type FlagValues } from "./flags.ts";

/** Settings for S3 repositories, shared by serving and the promote/rollback/status commands. */
export const S3_FLAGS: readonly FlagSpec[] = [
  {
    name: "s3-endpoint",
    kind: "string",
    help: "S3 endpoint URL, e.g. http://minio:9000 (default: from the s3:// URL or AWS)",
  },
  {
    name: "s3-region",
    kind: "string",
    help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)",
  },
  {
    name: "s3-force-path-style",
    kind: "boolean",
    help: "bucket in the URL path (default: true with a custom endpoint)",
  },
  { name: "s3-proxy", kind: "string", help: "HTTP(S) proxy URL for S3 requests" },
  {
    name: "s3-timeout-ms",
    kind: "integer",
    help: "wait this long for S3 to start answering (default 30000)",
  },
  {
    name: "s3-idle-timeout-ms",
    kind: "integer",
    help: "fail an S3 answer (a download) that sends no bytes this long (default 20000)",
  },
  { name: "s3-max-attempts", kind: "integer", help: "tries per S3 request (default 3)" },
];

export function s3Settings(values: FlagValues): S3Settings {
  const settings: S3Settings = { ...DEFAULT_S3_SETTINGS };
  const endpoint = values.get("s3-endpoint") as string | undefined;
  if (endpoint !== undefined) settings.endpoint = url(endpoint, "--s3-endpoint");
  const proxy = values.get("s3-proxy") as string | undefined;
  if (proxy !== undefined) settings.proxy = url(proxy, "--s3-proxy");
  const region = values.get("s3-region") as string | undefined;
  if (region !== undefined) {
    if (!/^[a-z0-9-]+$/.test(region))
      throw new FlagError(`flag '--s3-region' expects a region like eu-west-1, got '${region}'`);
    settings.region = region;
  }
  if (values.has("s3-force-path-style"))
    settings.forcePathStyle = values.get("s3-force-path-style") as boolean;
  settings.timeoutMs = positive(values, "s3-timeout-ms", settings.timeoutMs);
  if (values.has("s3-idle-timeout-ms")) settings.idleTimeoutMs = positive(values, "s3-idle-timeout-ms", 1);
  settings.maxAttempts = positive(values, "s3-max-attempts", settings.maxAttempts);
  return settings;
}

function url(text: string, flag: string): string {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new FlagError(`flag '${flag}' expects a URL like http://host:port, got '${text}'`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new FlagError(`flag '${flag}' expects an http:// or https:// URL, got '${text}'`);
  }
  return text.replace(/\/$/, "");
}

function positive(values: FlagValues, name: string, fallback: number): number {
  const value = (values.get(name) as number | undefined) ?? fallback;
  if (value < 1) throw new FlagError(`flag '--${name}' must be >= 1, got ${value}`);
  return value;
}
