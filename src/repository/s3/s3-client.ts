import { S3Client } from "@aws-sdk/client-s3";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { type ErrorCode, FerryError } from "../../core/errors.ts";
import type { S3Location } from "./s3-location.ts";
import { DEFAULT_S3_IDLE_TIMEOUT_MS, type S3Settings } from "./s3-settings.ts";

/** An S3 client and what configured it, so errors can say which setting failed. */
export interface S3Connection {
  client: S3Client;
  location: S3Location;
  settings: S3Settings;
  /** The endpoint used and where it came from, e.g. "http://127.0.0.1:9000 (from the repository URL)". */
  endpointDescription: string;
  /** Aborted by close(): every request in flight fails at once (shutdown does not wait for S3). */
  closing: AbortController;
}

/**
 * Credentials come from the standard AWS provider chain (environment,
 * shared config and AWS_PROFILE, web identity for Kubernetes service
 * accounts, container and instance metadata). Requests go through Bun's
 * fetch (which also takes the proxy), guarded by ferry's own deadlines.
 */
export function connectS3(location: S3Location, settings: S3Settings): S3Connection {
  const endpoint = settings.endpoint ?? location.endpoint;
  const region =
    settings.region ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    // S3-compatible stores ignore the region, but SigV4 needs one.
    (endpoint ? "us-east-1" : undefined);
  const closing = new AbortController();
  const client = new S3Client({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: settings.forcePathStyle ?? endpoint !== undefined,
    followRegionRedirects: true,
    maxAttempts: settings.maxAttempts,
    requestHandler: new FetchHttpHandler({
      customFetch: guardedFetch(settings, closing.signal) as typeof fetch,
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
    closing,
    endpointDescription: `${endpoint ?? "https://s3.<region>.amazonaws.com"} (${origin})`,
  };
}

/**
 * fetch that cannot hang: the answer must start within --s3-timeout-ms
 * (connecting included; the SDK's own timeout would leave the socket
 * open), its body may not go --s3-idle-timeout-ms without a byte (a
 * stalled download fails rather than blocking the load), and closing the
 * source aborts it. Body failures become repository errors naming the URL.
 */
function guardedFetch(settings: S3Settings, closing: AbortSignal) {
  return async (request: Request): Promise<Response> => {
    const own = new AbortController();
    const signal = AbortSignal.any([own.signal, closing, request.signal]);
    const url = new URL(request.url);
    const what = `${request.method} ${url.origin}${url.pathname}`;
    const timer = setTimeout(() => {
      const error = new Error(`${what}: no answer within ${settings.timeoutMs} ms`);
      error.name = "TimeoutError";
      own.abort(error);
    }, settings.timeoutMs);
    let response: Response;
    try {
      // Bun's fetch takes `proxy` as a fetch() option; it does not survive inside a Request.
      response = await fetch(request, { signal, ...(settings.proxy ? { proxy: settings.proxy } : {}) });
    } catch (error) {
      throw signal.aborted ? signal.reason : error;
    } finally {
      clearTimeout(timer);
    }
    if (!response.body) return response;
    const body = watchBody(
      response.body,
      settings.idleTimeoutMs ?? DEFAULT_S3_IDLE_TIMEOUT_MS,
      what,
      (reason) => own.abort(reason),
      closing,
    );
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** Passes a body through, failing it when no bytes come for `idleMs` while it is being read. */
function watchBody(
  body: ReadableStream<Uint8Array>,
  idleMs: number,
  what: string,
  abort: (reason: unknown) => void,
  closing: AbortSignal,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let bytes = 0;
  return new ReadableStream<Uint8Array>({
    async pull(out) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new FerryError(
                "DEADLINE_EXCEEDED",
                "repository",
                `${what}: S3 sent no bytes for ${idleMs} ms after ${bytes} bytes (--s3-idle-timeout-ms)`,
              ),
            ),
          idleMs,
        );
      });
      try {
        const chunk = await Promise.race([reader.read(), idle]);
        if (chunk.done) out.close();
        else {
          bytes += chunk.value.byteLength;
          out.enqueue(chunk.value);
        }
      } catch (error) {
        const failure =
          error instanceof FerryError
            ? error
            : closing.aborted
              ? closed(what)
              : new FerryError(
                  "UNAVAILABLE",
                  "repository",
                  `${what}: the connection broke off after ${bytes} bytes: ${error instanceof Error ? error.message : String(error)}`,
                  { cause: error },
                );
        abort(failure);
        reader.cancel(failure).catch(() => undefined);
        out.error(failure);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      abort(reason);
      return reader.cancel(reason);
    },
  });
}

function closed(what: string): FerryError {
  return new FerryError(
    "CANCELLED",
    "repository",
    `${what}: cancelled, the repository is closing (shutdown)`,
  );
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
  if (connection.closing.signal.aborted) return closed(what);
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
