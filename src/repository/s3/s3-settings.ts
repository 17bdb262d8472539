/** How ferry talks to S3, beyond what the AWS provider chain decides (credentials, profile). */
export interface S3Settings {
  /** --s3-endpoint: overrides the URL's endpoint and AWS's default. */
  endpoint?: string;
  /** --s3-region: else AWS_REGION / AWS_DEFAULT_REGION / the profile's region. */
  region?: string;
  /** --s3-force-path-style: bucket in the path (MinIO and most S3-compatible stores). */
  forcePathStyle?: boolean;
  /** --s3-proxy: an HTTP(S) proxy URL for every S3 request. */
  proxy?: string;
  /** --s3-timeout-ms: how long to wait for S3 to start answering a request (connecting included). */
  timeoutMs: number;
  /** --s3-idle-timeout-ms: how long an answer's body may send no bytes before the request fails. */
  idleTimeoutMs?: number;
  /** --s3-max-attempts: tries per request, retries backing off (SDK standard mode). */
  maxAttempts: number;
}

export const DEFAULT_S3_SETTINGS: S3Settings = { timeoutMs: 30_000, maxAttempts: 3 };

/** --s3-idle-timeout-ms when not given. */
export const DEFAULT_S3_IDLE_TIMEOUT_MS = 20_000;
