import { DEFAULT_MAX_JSON_BYTES, DEFAULT_MAX_JSON_ELEMENTS } from "../protocol/http/infer-request.ts";
import { INFLIGHT_BODIES } from "../protocol/http/inflight.ts";
import type { FlagSpec } from "./flags.ts";
import { S3_FLAGS } from "./s3-flags.ts";
import { TRITON_ONLY_FLAGS } from "./triton-flags.ts";

/** `ferry [serve]`'s flags: tritonserver's names, ferry's own, the S3 settings, and tritonserver's that ferry only accepts. */
export const SERVE_FLAGS: readonly FlagSpec[] = [
  {
    name: "model-repository",
    kind: "list",
    aliases: ["model-store"],
    help: "model repository: a directory or s3://[host:port/]bucket/path (repeatable)",
  },
  { name: "http-port", kind: "integer", help: "v2 HTTP/REST port (default 8000)" },
  { name: "http-address", kind: "string", help: "address HTTP listens on (default 0.0.0.0)" },
  { name: "allow-http", kind: "boolean", help: "serve HTTP/REST (default true)" },
  { name: "grpc-port", kind: "integer", help: "gRPC port (default 8001)" },
  { name: "grpc-address", kind: "string", help: "address gRPC listens on (default: --http-address)" },
  { name: "allow-grpc", kind: "boolean", help: "serve gRPC (default true)" },
  {
    name: "grpc-max-message-bytes",
    kind: "integer",
    help: "largest gRPC/Connect message (default 268435456)",
  },
  {
    name: "cors-allow-origin",
    kind: "list",
    help: "origin browsers may call from (repeatable, * = any; default none)",
  },
  {
    name: "console",
    kind: "boolean",
    help: "serve the web console at /console on the HTTP port (default true)",
  },
  { name: "metrics-port", kind: "integer", help: "Prometheus metrics port (default 8002)" },
  { name: "metrics-address", kind: "string", help: "address metrics listen on (default: --http-address)" },
  { name: "allow-metrics", kind: "boolean", help: "serve /metrics (default true)" },
  {
    name: "model-control-mode",
    kind: "string",
    choices: ["none", "explicit", "poll"],
    help: "how models are loaded (default none)",
  },
  { name: "load-model", kind: "list", help: "model to load at start in explicit mode (repeatable, * = all)" },
  { name: "repository-poll-secs", kind: "integer", help: "poll interval in poll mode (default 15)" },
  { name: "model-load-thread-count", kind: "integer", help: "models loaded at once (default 4)" },
  {
    name: "model-load-retry-count",
    kind: "integer",
    help: "retries of a backend's failed instance load before the version fails (default 0)",
  },
  {
    name: "strict-model-config",
    kind: "boolean",
    help: "deprecated: true = no auto-complete (default false)",
  },
  {
    name: "disable-auto-complete-config",
    kind: "boolean",
    help: "do not complete configs from the model file",
  },
  { name: "strict-readiness", kind: "boolean", help: "ready only when every model is ready (default true)" },
  { name: "exit-on-error", kind: "boolean", help: "exit if a model fails to load at start (default false)" },
  {
    name: "runtime-mismatch",
    kind: "string",
    choices: ["auto", "warn", "refuse"],
    help: "a version promoted on another runtime: warn (serve), refuse, or auto = warn on patch, refuse on major/minor (default auto)",
  },
  {
    name: "allow-code-overrides",
    kind: "boolean",
    help: "let the load API write model code files (default false; never while restricted APIs leave model-repository open)",
  },
  {
    name: "exit-timeout-secs",
    kind: "integer",
    help: "longest wait for in-flight work at shutdown (default 30)",
  },
  {
    name: "drain-grace-secs",
    kind: "integer",
    help: "after SIGTERM, serve while not ready this long (default 5)",
  },
  {
    name: "readiness-check-interval-secs",
    kind: "integer",
    help: "re-run readiness checks this often, 0 = never (default 30)",
  },
  {
    name: "gpu-fallback",
    kind: "string",
    choices: ["refuse", "cpu"],
    help: "KIND_GPU without CUDA: refuse or run on CPU (default refuse)",
  },
  { name: "log-verbose", kind: "integer", help: "verbose log level, 0 = off (default 0)" },
  { name: "log-info", kind: "boolean", help: "log info lines (default true)" },
  { name: "log-warning", kind: "boolean", help: "log warnings (default true)" },
  { name: "log-error", kind: "boolean", help: "log errors (default true)" },
  {
    name: "log-format",
    kind: "string",
    choices: ["default", "iso8601", "json"],
    help: "default (I <time> message), ISO8601 (time first) or json (one object per line)",
  },
  { name: "log-file", kind: "string", help: "append the log to this file instead of stderr" },
  { name: "allow-gpu-metrics", kind: "boolean", help: "GPU metrics from nvidia-smi (default true)" },
  { name: "allow-cpu-metrics", kind: "boolean", help: "host CPU and memory metrics (default true)" },
  {
    name: "metrics-interval-ms",
    kind: "integer",
    help: "sample per-interval (GPU) metrics this often (default 2000)",
  },
  { name: "id", kind: "string", help: "server name in metadata (default ferry)" },
  { name: "http-max-input-size", kind: "integer", help: "largest request body in bytes (default 67108864)" },
  {
    name: "http-max-json-bytes",
    kind: "integer",
    help: `largest JSON infer body, or JSON header of a binary one, in bytes (default ${DEFAULT_MAX_JSON_BYTES})`,
  },
  {
    name: "http-max-json-elements",
    kind: "integer",
    help: `most JSON values in an infer request (default ${DEFAULT_MAX_JSON_ELEMENTS})`,
  },
  {
    name: "http-max-inflight-bytes",
    kind: "integer",
    help: `request body bytes all requests in progress may hold, 503 above (default ${INFLIGHT_BODIES} x --http-max-input-size)`,
  },
  {
    name: "http-compress-min-bytes",
    kind: "integer",
    help: "compress JSON answers of at least this many bytes for clients that accept gzip/deflate, 0 = never (default 16384)",
  },
  {
    name: "backend-config",
    kind: "list",
    help: "[<backend>,]<setting>=<value>, e.g. default-max-batch-size=8",
  },
  {
    name: "metrics-config",
    kind: "list",
    help: "counter_latencies=<bool>, histogram_latencies=<bool>, summary_latencies=<bool> or summary_quantiles=<q>:<error>,...",
  },
  {
    name: "model-cache-dir",
    kind: "string",
    help: "where S3 artifacts and load overrides are kept (default ~/.cache/ferry)",
  },
  {
    name: "http-restricted-api",
    kind: "list",
    help: "<api>[,<api>...]:<key>=<value>: header those HTTP APIs need",
  },
  {
    name: "grpc-restricted-protocol",
    kind: "list",
    help: "<api>[,<api>...]:<key>=<value>: metadata triton-grpc-protocol-<key> those RPCs need",
  },
  ...S3_FLAGS,
  ...TRITON_ONLY_FLAGS.map(({ spec }) => spec),
  { name: "help", kind: "boolean", help: "print this help" },
];
