import { homedir } from "node:os";
import { join } from "node:path";
import { FerryError } from "../core/errors.ts";
import type { LogFormat } from "../core/log.ts";
import type { RuntimePolicy } from "../health/runtime.ts";
import { DEFAULT_COMPRESS_MIN_BYTES } from "../protocol/http/compression.ts";
import { DEFAULT_MAX_JSON_BYTES, DEFAULT_MAX_JSON_ELEMENTS } from "../protocol/http/infer-request.ts";
import { INFLIGHT_BODIES } from "../protocol/http/inflight.ts";
import { parseRestrictions } from "../protocol/restrictions.ts";
import { parseS3Url } from "../repository/s3/s3-location.ts";
import type { S3Settings } from "../repository/s3/s3-settings.ts";
import { FlagError, type FlagValues, parseFlags } from "./flags.ts";
import { s3Settings } from "./s3-flags.ts";
import { SERVE_FLAGS } from "./serve-flags.ts";
import { tritonFlagWarnings } from "./triton-flags.ts";

export { SERVE_FLAGS };

export type ControlMode = "none" | "explicit" | "poll";

export interface ServeOptions {
  modelRepositories: string[];
  httpPort: number;
  httpAddress: string;
  allowHttp: boolean;
  grpcPort: number;
  grpcAddress: string;
  allowGrpc: boolean;
  grpcMaxMessageBytes: number;
  corsAllowOrigins: string[];
  /** --console: the web console at /console on the HTTP port. */
  console: boolean;
  metricsPort: number;
  metricsAddress: string;
  allowMetrics: boolean;
  controlMode: ControlMode;
  loadModels: string[];
  repositoryPollSecs: number;
  autoCompleteConfig: boolean;
  strictReadiness: boolean;
  exitOnError: boolean;
  exitTimeoutSecs: number;
  logVerbose: number;
  /** --log-info / --log-warning / --log-error. */
  logInfo: boolean;
  logWarning: boolean;
  logError: boolean;
  logFormat: LogFormat;
  /** --log-file: append the log here instead of stderr. */
  logFile: string | undefined;
  serverId: string;
  httpMaxInputSize: number;
  /** --http-max-json-bytes: largest JSON infer body (or JSON header of a binary one). */
  httpMaxJsonBytes: number;
  /** --http-max-json-elements: most JSON values an infer request may hold. */
  httpMaxJsonElements: number;
  /** --http-max-inflight-bytes: body bytes all HTTP requests in progress may hold (503 above). */
  httpMaxInflightBytes: number;
  /** --http-compress-min-bytes: smallest JSON answer compressed for clients that accept it (0: never). */
  httpCompressMinBytes: number;
  defaultMaxBatchSize: number;
  counterLatencies: boolean;
  histogramLatencies: boolean;
  /** --metrics-config summary_latencies: the nv_inference_*_summary_us family. */
  summaryLatencies: boolean;
  /** --metrics-config summary_quantiles: quantile and its allowed error. */
  summaryQuantiles: { quantile: number; error: number }[];
  allowGpuMetrics: boolean;
  allowCpuMetrics: boolean;
  /** --metrics-interval-ms: how often per-interval metrics (GPU) are sampled. */
  metricsIntervalMs: number;
  gpuFallback: "refuse" | "cpu";
  modelCacheDir: string;
  httpRestrictedApi: string[];
  grpcRestrictedProtocol: string[];
  /** --allow-code-overrides: the load API may write model code (.ts, .js …); see codeOverridesAllowed. */
  allowCodeOverrides: boolean;
  /** --runtime-mismatch: a version promoted on another runtime serves (warn) or not (refuse); auto by difference. */
  runtimeMismatch: RuntimePolicy;
  readinessCheckIntervalSecs: number;
  drainGraceSecs: number;
  s3: S3Settings;
  /** --model-load-thread-count: models loaded (synced) at once. */
  modelLoadThreadCount: number;
  /** --model-load-retry-count: retries of a backend's failed instance load. */
  modelLoadRetryCount: number;
  /** One line per tritonserver-only flag given, logged at start. */
  compatibilityWarnings: string[];
}

/** Turns parsed flags into checked options, with tritonserver's defaults. */
export function serveOptions(argv: readonly string[]): ServeOptions | "help" {
  const values = parseFlags(argv, SERVE_FLAGS);
  if (values.get("help") === true) return "help";
  const get = <T>(name: string, fallback: T): T => (values.has(name) ? (values.get(name) as T) : fallback);
  const controlMode = get<ControlMode>("model-control-mode", "none");
  const loadModels = get<string[]>("load-model", []);
  const repositories = get<string[]>("model-repository", []);
  if (repositories.length === 0) throw new FlagError("--model-repository is required");
  if (loadModels.length > 0 && controlMode !== "explicit") {
    throw new FlagError("--load-model needs --model-control-mode=explicit");
  }
  if (loadModels.includes("*") && loadModels.length > 1)
    throw new FlagError("--load-model=* must be the only --load-model");
  const httpAddress = get("http-address", "0.0.0.0");
  const options: ServeOptions = {
    modelRepositories: repositories,
    httpPort: port(values, "http-port", 8000),
    httpAddress,
    allowHttp: get("allow-http", true),
    grpcPort: port(values, "grpc-port", 8001),
    grpcAddress: get("grpc-address", httpAddress),
    allowGrpc: get("allow-grpc", true),
    grpcMaxMessageBytes: atLeast(values, "grpc-max-message-bytes", 256 * 1024 * 1024, 1024),
    corsAllowOrigins: get("cors-allow-origin", []),
    console: get("console", true),
    metricsPort: port(values, "metrics-port", 8002),
    metricsAddress: get("metrics-address", httpAddress),
    allowMetrics: get("allow-metrics", true),
    controlMode,
    loadModels,
    repositoryPollSecs: atLeast(values, "repository-poll-secs", 15, 0),
    autoCompleteConfig: !(get("strict-model-config", false) || get("disable-auto-complete-config", false)),
    strictReadiness: get("strict-readiness", true),
    exitOnError: get("exit-on-error", false),
    exitTimeoutSecs: atLeast(values, "exit-timeout-secs", 30, 0),
    logVerbose: atLeast(values, "log-verbose", 0, 0),
    logInfo: get("log-info", true),
    logWarning: get("log-warning", true),
    logError: get("log-error", true),
    logFormat: logFormat(get("log-format", "default")),
    logFile: get<string | undefined>("log-file", undefined),
    serverId: get("id", "ferry"),
    httpMaxInputSize: atLeast(values, "http-max-input-size", 64 * 1024 * 1024, 1),
    httpMaxJsonBytes: atLeast(values, "http-max-json-bytes", DEFAULT_MAX_JSON_BYTES, 1),
    httpMaxJsonElements: atLeast(values, "http-max-json-elements", DEFAULT_MAX_JSON_ELEMENTS, 1),
    httpMaxInflightBytes: atLeast(
      values,
      "http-max-inflight-bytes",
      INFLIGHT_BODIES * atLeast(values, "http-max-input-size", 64 * 1024 * 1024, 1),
      1,
    ),
    httpCompressMinBytes: atLeast(values, "http-compress-min-bytes", DEFAULT_COMPRESS_MIN_BYTES, 0),
    defaultMaxBatchSize: 4,
    counterLatencies: true,
    histogramLatencies: true,
    summaryLatencies: false,
    // tritonserver's default summary quantiles.
    summaryQuantiles: [
      { quantile: 0.5, error: 0.05 },
      { quantile: 0.9, error: 0.01 },
      { quantile: 0.95, error: 0.001 },
      { quantile: 0.99, error: 0.001 },
    ],
    allowGpuMetrics: get("allow-gpu-metrics", true),
    allowCpuMetrics: get("allow-cpu-metrics", true),
    metricsIntervalMs: atLeast(values, "metrics-interval-ms", 2000, 1),
    gpuFallback: get<"refuse" | "cpu">("gpu-fallback", "refuse"),
    modelCacheDir: get(
      "model-cache-dir",
      join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "ferry"),
    ),
    httpRestrictedApi: get("http-restricted-api", []),
    grpcRestrictedProtocol: get("grpc-restricted-protocol", []),
    allowCodeOverrides: get("allow-code-overrides", false),
    runtimeMismatch: get<RuntimePolicy>("runtime-mismatch", "auto"),
    readinessCheckIntervalSecs: atLeast(values, "readiness-check-interval-secs", 30, 0),
    drainGraceSecs: atLeast(values, "drain-grace-secs", 5, 0),
    s3: s3Settings(values),
    modelLoadThreadCount: atLeast(values, "model-load-thread-count", 4, 1),
    modelLoadRetryCount: atLeast(values, "model-load-retry-count", 0, 0),
    compatibilityWarnings: tritonFlagWarnings(values),
  };
  for (const repository of repositories) checkRepositoryUrl(repository);
  for (const setting of get<string[]>("backend-config", [])) applyBackendConfig(options, setting);
  for (const setting of get<string[]>("metrics-config", [])) applyMetricsConfig(options, setting);
  checkRestrictions(options.httpRestrictedApi, "--http-restricted-api");
  checkRestrictions(options.grpcRestrictedProtocol, "--grpc-restricted-protocol");
  return options;
}

function port(values: FlagValues, name: string, fallback: number): number {
  const value = (values.get(name) as number | undefined) ?? fallback;
  if (value < 0 || value > 65_535)
    throw new FlagError(`flag '--${name}' must be a port in [0, 65535], got ${value}`);
  return value;
}

function atLeast(values: FlagValues, name: string, fallback: number, min: number): number {
  const value = (values.get(name) as number | undefined) ?? fallback;
  if (value < min) throw new FlagError(`flag '--${name}' must be >= ${min}, got ${value}`);
  return value;
}

function applyBackendConfig(options: ServeOptions, setting: string): void {
  const match = /^(?:([a-z_]+),)?([a-z-]+)=(.*)$/.exec(setting);
  if (!match) throw new FlagError(`--backend-config expects [<backend>,]<setting>=<value>, got '${setting}'`);
  const [, backend, key, value] = match;
  if (backend !== undefined && backend !== "onnxruntime")
    throw new FlagError(`--backend-config: unknown backend '${backend}'`);
  if (key !== "default-max-batch-size") throw new FlagError(`--backend-config: unknown setting '${key}'`);
  if (!/^[0-9]+$/.test(value ?? ""))
    throw new FlagError(`--backend-config: default-max-batch-size must be an integer, got '${value}'`);
  options.defaultMaxBatchSize = Number(value);
}

function applyMetricsConfig(options: ServeOptions, setting: string): void {
  const quantiles = /^summary_quantiles=(.+)$/.exec(setting);
  if (quantiles) {
    options.summaryQuantiles = (quantiles[1] as string).split(",").map((pair) => {
      const [quantile = Number.NaN, error = Number.NaN] = pair.split(":").map(Number);
      if (!(quantile > 0 && quantile < 1 && error >= 0 && error < 1))
        throw new FlagError(
          `--metrics-config summary_quantiles expects <quantile>:<error>,... with both in (0, 1), got '${pair}'`,
        );
      return { quantile, error };
    });
    return;
  }
  const match = /^([a-z_]+)=(true|false)$/.exec(setting);
  const key = match?.[1];
  if (
    !match ||
    (key !== "counter_latencies" && key !== "histogram_latencies" && key !== "summary_latencies")
  ) {
    throw new FlagError(
      `--metrics-config expects counter_latencies=<bool>, histogram_latencies=<bool>, summary_latencies=<bool> or summary_quantiles=<q>:<error>,..., got '${setting}'`,
    );
  }
  const enabled = match[2] === "true";
  if (key === "counter_latencies") options.counterLatencies = enabled;
  else if (key === "histogram_latencies") options.histogramLatencies = enabled;
  else options.summaryLatencies = enabled;
}

function logFormat(text: string): LogFormat {
  return text === "iso8601" ? "ISO8601" : (text as LogFormat);
}

function checkRepositoryUrl(repository: string): void {
  if (!repository.startsWith("s3://")) {
    if (/^[a-z][a-z0-9]*:\/\//.test(repository)) {
      throw new FlagError(`--model-repository '${repository}': only local paths and s3:// are supported`);
    }
    return;
  }
  try {
    parseS3Url(repository);
  } catch (error) {
    if (error instanceof FerryError) throw new FlagError(error.detail);
    throw error;
  }
}

function checkRestrictions(specs: string[], flag: string): void {
  try {
    parseRestrictions(specs, flag);
  } catch (error) {
    if (error instanceof FerryError) throw new FlagError(error.detail);
    throw error;
  }
}
