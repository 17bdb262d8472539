import packageJson from "../../package.json" with { type: "json" };
import { OnnxBackend } from "../backends/onnxruntime/onnx-backend.ts";
import { BackendRegistry } from "../backends/registry.ts";
import type { Logger } from "../core/log.ts";
import { modelsReady, notReadyModels } from "../health/readiness.ts";
import { ServerState } from "../health/server-state.ts";
import { createServerMetrics } from "../metrics/registry.ts";
import { EXTENSIONS } from "../protocol/extensions.ts";
import { startGrpcServer } from "../protocol/grpc/grpc-server.ts";
import { createHttpApp } from "../protocol/http/app.ts";
import { withCors } from "../protocol/http/cors.ts";
import { InferenceService } from "../protocol/service.ts";
import { CombinedSource } from "../repository/combined-source.ts";
import { LocalSource } from "../repository/local-source.ts";
import { ModelManager } from "../repository/model-manager.ts";
import type { ModelSource } from "../repository/source.ts";
import type { ServeOptions } from "./serve-options.ts";

export interface RunningServer {
  httpPort: number | undefined;
  grpcPort: number | undefined;
  metricsPort: number | undefined;
  manager: ModelManager;
  service: InferenceService;
  state: ServerState;
  /** True when every model that had to load at start did. */
  startupSucceeded: boolean;
  /** Stops taking requests, lets in-flight ones finish (up to the exit timeout), unloads models. */
  stop(): Promise<{ timedOut: boolean }>;
}

/**
 * Start-up order: endpoints first (live, not yet ready), then the initial
 * model load, then ready. Shutdown is the reverse: exiting (health answers
 * 503), models drain and unload, listeners close.
 */
export async function startServer(options: ServeOptions, log: Logger): Promise<RunningServer> {
  const metrics = createServerMetrics({
    counterLatencies: options.counterLatencies,
    histogramLatencies: options.histogramLatencies,
  });
  const manager = new ModelManager(
    {
      source: createSource(options.modelRepositories),
      backends: new BackendRegistry([
        new OnnxBackend((message) => log.warn(message), options.logVerbose > 0),
      ]),
      autoComplete: options.autoCompleteConfig,
      defaultMaxBatchSize: options.defaultMaxBatchSize,
      gpus: [],
      observerFor: (model, version) => metrics.inference.observerFor(model, version),
    },
    (message) => log.info(message),
  );
  const state = new ServerState(() => modelsReady(manager, options.strictReadiness));
  const service = new InferenceService(manager, state, {
    serverName: options.serverId,
    serverVersion: packageJson.version,
    extensions: EXTENSIONS,
  });

  const http = options.allowHttp
    ? Bun.serve({
        port: options.httpPort,
        hostname: options.httpAddress,
        fetch: httpHandler(service, options),
        // The handler enforces --http-max-input-size itself, with a JSON error.
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        idleTimeout: 255,
      })
    : undefined;
  const metricsServer = options.allowMetrics
    ? Bun.serve({
        port: options.metricsPort,
        hostname: options.metricsAddress,
        fetch: async (request) => {
          if (new URL(request.url).pathname !== "/metrics")
            return new Response("Not Found\n", { status: 404 });
          return new Response(await metrics.registry.metrics(), {
            headers: { "content-type": metrics.registry.contentType },
          });
        },
      })
    : undefined;
  const grpc = options.allowGrpc
    ? await startGrpcServer(service, {
        port: options.grpcPort,
        address: options.grpcAddress,
        maxMessageBytes: options.grpcMaxMessageBytes,
      })
    : undefined;
  const at = (address: string, port: number | undefined) =>
    port === undefined ? "(disabled)" : `${address}:${port}`;
  log.info(
    `HTTP on ${at(options.httpAddress, http?.port)}, gRPC on ${at(options.grpcAddress, grpc?.port)}, metrics on ${at(options.metricsAddress, metricsServer?.port)}`,
  );

  const startupModels = await modelsToLoad(options, manager);
  await manager.loadModels(startupModels);
  const failed = notReadyModels(manager);
  for (const { model, version, reason } of failed)
    log.error(`model '${model}'${version ? ` version ${version}` : ""} is not ready: ${reason}`);
  state.phase = "READY";
  log.info(`ready: ${startupModels.length} model(s) loaded from ${options.modelRepositories.join(", ")}`);

  return {
    httpPort: http?.port,
    grpcPort: grpc?.port,
    metricsPort: metricsServer?.port,
    manager,
    service,
    state,
    startupSucceeded: failed.length === 0,
    async stop() {
      state.phase = "EXITING";
      const unloaded = manager.shutdown().then(() => false);
      const timeout = new Promise<boolean>((resolve) =>
        setTimeout(resolve, options.exitTimeoutSecs * 1000, true).unref(),
      );
      const timedOut = await Promise.race([unloaded, timeout]);
      http?.stop(true);
      metricsServer?.stop(true);
      await grpc?.stop();
      return { timedOut };
    },
  };
}

function httpHandler(service: InferenceService, options: ServeOptions) {
  const app = createHttpApp(service, {
    maxInputBytes: options.httpMaxInputSize,
    maxMessageBytes: options.grpcMaxMessageBytes,
  });
  return options.corsAllowOrigins.length > 0 ? withCors(app.fetch, options.corsAllowOrigins) : app.fetch;
}

function createSource(paths: string[]): ModelSource {
  const sources = paths.map((path) => new LocalSource(path));
  return sources.length === 1 ? (sources[0] as ModelSource) : new CombinedSource(sources);
}

async function modelsToLoad(options: ServeOptions, manager: ModelManager): Promise<string[]> {
  if (options.controlMode !== "explicit" || options.loadModels.includes("*"))
    return manager.repositoryModels();
  return options.loadModels;
}
