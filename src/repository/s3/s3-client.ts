import { S3Client } from "@aws-sdk/client-s3";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { type ErrorCode, FerryError } from "../../core/errors.ts";
import type { S3Location } from "./s3-location.ts";
import type { S3Settings } from "./s3-settings.ts";

/** An S3 client and what configured it, so errors can say which setting failed. */
export interface S3Connection {
  client: S3Client;
  location: S3Location;
  settings: S3Settings;
  /** The endpoint used and where it came from, e.g. "http://127.0.0.1:9000 (from the repository URL)". */
  endpointDescription: string;
}

/**
 * Credentials come from the standard AWS provider chain (environment,
 * shared config and AWS_PROFILE, web identity for Kubernetes service
 * accounts, container and instance metadata). Requests go through Bun's
 * fetch, which also takes the proxy.
 */
export function connectS3(location: S3Location, settings: S3Settings): S3Connection {
  const endpoint = settings.endpoint ?? location.endpoint;
  const region =
    settings.region ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    // S3-compatible stores ignore the region, but SigV4 needs one.
    (endpoint ? "us-east-1" : undefined);
  const proxy = settings.proxy;
  const client = new S3Client({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: settings.forcePathStyle ?? endpoint !== undefined,
    followRegionRedirects: true,
    maxAttempts: settings.maxAttempts,
    requestHandler: new FetchHttpHandler({
      requestTimeout: settings.timeoutMs,
      // Bun's fetch takes `proxy` as a fetch() option; it does not survive inside a Request.
      ...(proxy ? { customFetch: ((request: Request) => fetch(request, { proxy })) as typeof fetch } : {}),
    }),
  });
  const origin = settings.endpoint
    ? "from --s3-endpoint"
    : location.endpoint
      ? "from the repository URL"
      : "AWS's endpoint for the region";
  return {
    client,
    location,
    settings,
    endpointDescription: `${endpoint ?? "https://s3.<region>.amazonaws.com"} (${origin})`,
  };
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Turns an SDK or network failure into a repository error that names the setting to look at. */
export function s3Failure(error: unknown, connection: S3Connection, what: string): FerryError {
  if (error instanceof FerryError) return error;
  const sdk = (error ?? {}) as SdkError;
  const name = sdk.name ?? "";
  const text = sdk.message ?? String(error);
  const status = sdk.$metadata?.httpStatusCode;
  const { settings, location, endpointDescription } = connection;
  const fail = (code: ErrorCode, detail: string) =>
    new FerryError(code, "repository", `${what}: ${detail}`, { cause: error });
  const network =
    /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ConnectionRefused|FailedToOpenSocket|Unable to connect|socket|fetch failed|ConnectionClosed/i;
  if (name === "TimeoutError" || /did not complete within|timed? ?out/i.test(text)) {
    return fail(
      "DEADLINE_EXCEEDED",
      `S3 endpoint ${endpointDescription} did not answer within ${settings.timeoutMs} ms (--s3-timeout-ms): ${text}`,
    );
  }
  if (name === "CredentialsProviderError" || /Could not load credentials|credential/i.test(text)) {
    return fail(
      "UNAVAILABLE",
      `no AWS credentials found (tried AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, web identity via AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, container and instance metadata): ${text}`,
    );
  }
  if (/Region is missing/i.test(text)) {
    return fail(
      "INVALID_ARGUMENT",
      `no AWS region: set --s3-region, AWS_REGION or a region in the AWS profile (${text})`,
    );
  }
  if (network.test(`${name} ${sdk.code ?? ""} ${text}`) || (name === "TypeError" && status === undefined)) {
    const via = settings.proxy ? ` through proxy ${settings.proxy} (--s3-proxy)` : "";
    return fail("UNAVAILABLE", `cannot reach S3 endpoint ${endpointDescription}${via}: ${text}`);
  }
  if (status === 412) {
    return fail(
      "UNAVAILABLE",
      `the object changed while it was being read; the next attempt reads the new one (${text})`,
    );
  }
  if (name === "NoSuchBucket") {
    return fail("NOT_FOUND", `bucket '${location.bucket}' does not exist at ${endpointDescription}`);
  }
  if (name === "NoSuchKey" || status === 404) return fail("NOT_FOUND", `no such object (${text})`);
  if (
    status === 403 ||
    ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"].includes(
      name,
    )
  ) {
    return fail(
      "PERMISSION_DENIED",
      `access denied to ${location.url} (${name || status}): ${text}; check the credentials the AWS provider chain found and the bucket policy`,
    );
  }
  if (status !== undefined && status >= 500)
    return fail("UNAVAILABLE", `S3 answered ${status} ${name}: ${text}`);
  return fail("INTERNAL", `${name || "S3 error"}${status ? ` (HTTP ${status})` : ""}: ${text}`);
}
