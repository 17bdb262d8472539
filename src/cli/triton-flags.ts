import { FlagError, type FlagSpec, type FlagValues } from "./flags.ts";

/**
 * tritonserver flags ferry takes without acting on them, so a command line
 * or Helm values file written for Triton starts: each with what ferry does
 * instead, logged once as a warning. A flag whose requested behaviour would
 * change what clients get (other model names, endpoints that would not
 * exist, TLS that would not be there) is refused when it asks for it.
 */
interface TritonOnlyFlag {
  spec: FlagSpec;
  instead: string;
  /** The reason to refuse this value, if it asks for something ferry cannot give. */
  refuse?: (value: string | number | boolean | string[]) => string | undefined;
}

const flag = (name: string, kind: FlagSpec["kind"], instead: string, refuse?: TritonOnlyFlag["refuse"]) => ({
  spec: { name, kind, help: `tritonserver's; ${instead}` },
  instead,
  ...(refuse ? { refuse } : {}),
});

const whenTrue = (reason: string) => (value: unknown) => (value === true ? reason : undefined);
const whenGiven = (reason: string) => (value: unknown) =>
  (Array.isArray(value) ? value.length > 0 : value !== "" && value !== undefined) ? reason : undefined;

export const TRITON_ONLY_FLAGS: readonly TritonOnlyFlag[] = [
  flag(
    "http-thread-count",
    "integer",
    "no effect: HTTP is served by Bun's event loop; inference runs in workers",
  ),
  flag("reuse-http-port", "boolean", "no effect: one process owns the HTTP port"),
  flag("reuse-grpc-port", "boolean", "no effect: one process owns the gRPC port"),
  flag("grpc-infer-thread-count", "integer", "no effect: gRPC shares the event loop"),
  flag("grpc-infer-allocation-pool-size", "integer", "no effect: no response pool to size"),
  flag("grpc-max-response-pool-size", "integer", "no effect: no response pool to size"),
  flag("grpc-infer-response-compression-level", "string", "no effect: ModelInfer answers are not compressed"),
  flag("grpc-keepalive-time", "integer", "no effect: HTTP/2 keepalive uses node:http2's defaults"),
  flag("grpc-keepalive-timeout", "integer", "no effect: HTTP/2 keepalive uses node:http2's defaults"),
  flag("grpc-keepalive-permit-without-calls", "boolean", "no effect: pings are always answered"),
  flag("grpc-http2-max-pings-without-data", "integer", "no effect: pings are not limited"),
  flag("grpc-http2-min-recv-ping-interval-without-data", "integer", "no effect: pings are not limited"),
  flag("grpc-http2-max-ping-strikes", "integer", "no effect: pings are not limited"),
  flag("grpc-max-connection-age", "integer", "no effect: connections are not aged out"),
  flag("grpc-max-connection-age-grace", "integer", "no effect: connections are not aged out"),
  flag(
    "grpc-use-ssl",
    "boolean",
    "gRPC is plaintext (h2c); terminate TLS in front of ferry",
    whenTrue("ferry serves gRPC without TLS; terminate TLS in a proxy or ingress in front of it"),
  ),
  flag(
    "grpc-use-ssl-mutual",
    "boolean",
    "gRPC is plaintext (h2c)",
    whenTrue("ferry serves gRPC without TLS; terminate mutual TLS in a proxy or ingress in front of it"),
  ),
  flag("grpc-server-cert", "string", "gRPC is plaintext", whenGiven("ferry serves gRPC without TLS")),
  flag("grpc-server-key", "string", "gRPC is plaintext", whenGiven("ferry serves gRPC without TLS")),
  flag("grpc-root-cert", "string", "gRPC is plaintext", whenGiven("ferry serves gRPC without TLS")),
  flag(
    "grpc-header-forward-pattern",
    "string",
    "headers are not forwarded to models",
    whenGiven("ferry does not forward request headers to models as parameters"),
  ),
  flag(
    "http-header-forward-pattern",
    "string",
    "headers are not forwarded to models",
    whenGiven("ferry does not forward request headers to models as parameters"),
  ),
  flag("backend-directory", "string", "no effect: ferry's backends (onnxruntime, typescript) are built in"),
  flag("repoagent-directory", "string", "no effect: ferry has no repository agents"),
  flag("cache-directory", "string", "no effect: ferry has no response cache"),
  flag("cache-config", "list", "no effect: ferry has no response cache; every request is computed"),
  flag("response-cache-byte-size", "integer", "no effect: ferry has no response cache"),
  flag("rate-limit", "string", "no effect: instances run whenever the scheduler has work for them"),
  flag("rate-limit-resource", "list", "no effect: ferry has no rate limiter"),
  flag("pinned-memory-pool-byte-size", "integer", "no effect: onnxruntime-node manages host memory"),
  flag("cuda-memory-pool-byte-size", "list", "no effect: onnxruntime's CUDA provider manages device memory"),
  flag("buffer-manager-thread-count", "integer", "no effect: ferry has no buffer manager threads"),
  flag("host-policy", "list", "no effect: pin the process with the container's CPU set instead"),
  flag("trace-config", "list", "no effect: use Server-Timing answers and the statistics extension"),
  flag("trace-file", "string", "no effect: ferry does not write traces"),
  flag("trace-level", "list", "no effect: ferry does not write traces"),
  flag("trace-rate", "integer", "no effect: ferry does not write traces"),
  flag(
    "model-namespacing",
    "boolean",
    "model names are global",
    whenTrue("ferry does not namespace models by repository: a model name means one model"),
  ),
  flag(
    "allow-sagemaker",
    "boolean",
    "no SageMaker endpoint",
    whenTrue("ferry has no SageMaker endpoint (only v2 HTTP, gRPC, Connect and gRPC-web)"),
  ),
  flag("sagemaker-port", "integer", "no SageMaker endpoint"),
  flag(
    "allow-vertex-ai",
    "boolean",
    "no Vertex AI endpoint",
    whenTrue("ferry has no Vertex AI endpoint (only v2 HTTP, gRPC, Connect and gRPC-web)"),
  ),
  flag("vertex-ai-port", "integer", "no Vertex AI endpoint"),
  flag(
    "allow-client-shm",
    "boolean",
    "no shared-memory extensions",
    whenTrue("ferry does not implement the system and CUDA shared-memory extensions"),
  ),
];

/**
 * One warning per tritonserver-only flag given; FlagError for a value that
 * asks for behaviour ferry cannot give.
 */
export function tritonFlagWarnings(values: FlagValues): string[] {
  const warnings: string[] = [];
  for (const { spec, instead, refuse } of TRITON_ONLY_FLAGS) {
    if (!values.has(spec.name)) continue;
    const value = values.get(spec.name) as string | number | boolean | string[];
    const reason = refuse?.(value);
    if (reason) throw new FlagError(`--${spec.name}=${String(value)} cannot be honoured: ${reason}`);
    warnings.push(`--${spec.name} is accepted for tritonserver compatibility: ${instead}`);
  }
  return warnings;
}
