import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import type { DeviceInventory } from "../backends/devices.ts";
import { OnnxBackend } from "../backends/onnxruntime/onnx-backend.ts";
import { describeDevices, detectDevices } from "../backends/onnxruntime/providers.ts";
import { BackendRegistry } from "../backends/registry.ts";
import { TypeScriptBackend } from "../backends/typescript/typescript-backend.ts";
import { FerryError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { HealthMonitor } from "../health/monitor.ts";
import { modelsReady, notReadyModels } from "../health/readiness.ts";
import { ServerState } from "../health/server-state.ts";
import { registerModelStateMetrics } from "../metrics/model-state-metrics.ts";
import { createServerMetrics, type ServerMetrics } from "../metrics/registry.ts";
import { EXTENSIONS } from "../protocol/extensions.ts";
import { startGrpcServer } from "../protocol/grpc/grpc-server.ts";
import { createHttpApp } from "../protocol/http/app.ts";
import { withCors } from "../protocol/http/cors.ts";
import { closeConnectionsWhen } from "../protocol/http/drain.ts";
import { codeOverridesAllowed, parseRestrictions } from "../protocol/restrictions.ts";
import { InferenceService } from "../protocol/service.ts";
import { ArtifactCache } from "../repository/artifact-cache.ts";
import { CombinedSource } from "../repository/combined-source.ts";
import { LocalSource } from "../repository/local-source.ts";
import { ModelManager } from "../repository/model-manager.ts";
import { RepositoryPoller } from "../repository/poller.ts";
import type { ModelSource } from "../repository/source.ts";
import { serveHttp } from "../runtime/serve.ts";
import { sleep } from "../runtime/timers.ts";
import { modelVersionStates } from "./model-states.ts";
import type { ServeOptions } from "./serve-options.ts";
import { listen } from "./startup-error.ts";

export interface RunningServer {
  httpPort: number | undefined;
  grpcPort: number | undefined;
  metricsPort: number | undefined;
  manager: ModelManager;
  service: InferenceService;
  state: ServerState;
  /** True when every model that had to load at start did. */
  startupSucceeded: boolean;
  /**
   * Graceful shutdown: not ready at once, requests still served for the
   * grace period, then new inference refused while queued and running
   * requests finish and models unload; at the exit timeout what remains is
   * cancelled with an error and `timedOut` is true.
   */
  stop(options?: { graceSecs?: number }): Promise<{ timedOut: boolean }>;
}

export interface ServerDependencies {
  /** The host's devices; detected when absent (tests pass a fake inventory). */
  devices?: DeviceInventory;
}

/**
 * Start-up order: endpoints first (live, not yet ready), then the initial
 * model load, then ready. Shutdown is the reverse.
 */
export async function startServer(
  options: ServeOptions,
  log: Logger,
  dependencies: ServerDependencies = {},
): Promise<RunningServer> {
  const metrics = createServerMetrics({
    counterLatencies: options.counterLatencies,
    histogramLatencies: options.histogramLatencies,
    summaryLatencies: options.summaryLatencies ? options.summaryQuantiles : undefined,
    intervalMs: options.metricsIntervalMs,
    gpu: options.allowGpuMetrics,
    cpu: options.allowCpuMetrics,
  });
  const devices = dependencies.devices ?? detectDevices();
  const source = await createSource(options, log);
  log.info(describeDevices(devices));
  const manager = new ModelManager(
    {
      source,
      backends: new BackendRegistry([
        new OnnxBackend({
          warn: (message) => log.warn(message),
          info: (message) => log.info(message),
          verbose: options.logVerbose > 0,
        }),
        new TypeScriptBackend((message) => log.warn(message)),
      ]),
      autoComplete: options.autoCompleteConfig,
      defaultMaxBatchSize: options.defaultMaxBatchSize,
      devices,
      gpuFallback: options.gpuFallback,
      observerFor: (model, version) => metrics.inference.observerFor(model, version),
      onLoaded: (model, version, seconds) => metrics.inference.recordLoad(model, version, seconds),
      onLoadFailed: (model, version) => metrics.inference.recordLoadFailure(model, version),
      runtimeMismatch: options.runtimeMismatch,
      onRuntimeMismatch: (model, version) => metrics.inference.recordRuntimeMismatch(model, version),
      loadRetryCount: options.modelLoadRetryCount,
      onLoadRetry: (message) => log.warn(message),
    },
    (message) => log.info(message),
  );
  registerModelStateMetrics(metrics.registry, () => modelVersionStates(manager));
  const poller = new RepositoryPoller(manager, {
    models: () => modelsToLoad(options, manager),
    keepPolling: options.controlMode === "poll" && options.repositoryPollSecs > 0,
    intervalMs: options.repositoryPollSecs * 1000,
    concurrency: options.modelLoadThreadCount,
    log,
    locations: options.modelRepositories,
  });
  // Not ready until the repository has been listed once: an unreachable
  // S3 bucket at start-up leaves the server live, retrying, and not ready.
  const state = new ServerState(() => poller.listed && modelsReady(manager, options.strictReadiness));
  const service = new InferenceService(manager, state, {
    serverName: options.serverId,
    serverVersion: packageJson.version,
    extensions: EXTENSIONS,
    strictReadiness: options.strictReadiness,
    controlMode: options.controlMode,
    overridesDir: join(options.modelCacheDir, "overrides"),
    repositoryStatus: () => poller.status(),
    allowCodeOverrides: codeOverridesAllowed(
      options.allowCodeOverrides,
      ...(options.allowHttp ? [parseRestrictions(options.httpRestrictedApi, "--http-restricted-api")] : []),
      ...(options.allowGrpc
        ? [parseRestrictions(options.grpcRestrictedProtocol, "--grpc-restricted-protocol")]
        : []),
    ),
  });
  const listeners = await startListeners(service, metrics, options);
  const at = (address: string, port: number | undefined) =>
    port === undefined ? "(disabled)" : `${address}:${port}`;
  log.info(
    `HTTP on ${at(options.httpAddress, listeners.http?.port)}, gRPC on ${at(options.grpcAddress, listeners.grpc?.port)}, metrics on ${at(options.metricsAddress, listeners.metrics?.port)}`,
  );

  await poller.firstPass();
  poller.start();
  const failed = notReadyModels(manager);
  for (const { model, version, reason } of failed)
    log.error(`model '${model}'${version ? ` version ${version}` : ""} is not ready: ${reason}`);
  state.phase = "READY";
  const loaded = manager.knownModels().filter((name) => manager.servingVersions(name).length > 0);
  log.info(
    poller.listed
      ? `ready: ${loaded.length} model(s) loaded from ${options.modelRepositories.join(", ")}`
      : `not ready: the model repository could not be listed yet; retrying`,
  );
  const monitor = new HealthMonitor(
    () => manager.servingVersions(),
    options.readinessCheckIntervalSecs * 1000,
    (message) => log.warn(message),
  );
  monitor.start();

  let stopping: Promise<{ timedOut: boolean }> | undefined;
  const stop = async (graceSecs: number) => {
    state.phase = "DRAINING";
    listeners.drain();
    monitor.stop();
    // Polling stops at once: S3 work in flight is aborted, not waited for.
    source.close?.();
    await poller.stop();
    log.info(`draining: not ready, still serving for ${graceSecs}s`);
    await sleep(graceSecs * 1000);
    state.phase = "EXITING";
    log.info("exiting: refusing new inference, finishing queued and running requests");
    const unloaded = manager.shutdown().then(() => false);
    const timeout = new Promise<boolean>((resolve) =>
      setTimeout(resolve, options.exitTimeoutSecs * 1000, true).unref(),
    );
    const timedOut = await Promise.race([unloaded, timeout]);
    if (timedOut) {
      manager.abortAll(
        new FerryError(
          "UNAVAILABLE",
          "protocol",
          `Server exiting: the exit timeout of ${options.exitTimeoutSecs}s expired before this request finished`,
        ),
      );
      // Let the cancelled answers go out, and running sessions return, before the listeners close.
      await Promise.race([unloaded, sleep(2000)]);
    }
    await listeners.stop();
    source.close?.();
    return { timedOut };
  };
  return {
    httpPort: listeners.http?.port,
    grpcPort: listeners.grpc?.port,
    metricsPort: listeners.metrics?.port,
    manager,
    service,
    state,
    startupSucceeded: failed.length === 0 && poller.listed,
    stop: (stopOptions) => {
      stopping ??= stop(stopOptions?.graceSecs ?? options.drainGraceSecs);
      return stopping;
    },
  };
}

async function startListeners(service: InferenceService, metrics: ServerMetrics, options: ServeOptions) {
  const app = createHttpApp(service, {
    maxInputBytes: options.httpMaxInputSize,
    maxMessageBytes: options.grpcMaxMessageBytes,
    restrictions: parseRestrictions(options.httpRestrictedApi, "--http-restricted-api"),
    compressMinBytes: options.httpCompressMinBytes,
    console: options.console,
    maxJsonBytes: options.httpMaxJsonBytes,
    maxJsonElements: options.httpMaxJsonElements,
    maxInflightBytes: options.httpMaxInflightBytes,
  });
  let draining = false;
  const http = options.allowHttp
    ? await listen("HTTP", "--http-port", options.httpAddress, options.httpPort, () =>
        serveHttp({
          port: options.httpPort,
          hostname: options.httpAddress,
          fetch: closeConnectionsWhen(
            options.corsAllowOrigins.length > 0 ? withCors(app.fetch, options.corsAllowOrigins) : app.fetch,
            () => draining,
          ),
          // The handler enforces --http-max-input-size itself, with a JSON error.
          maxRequestBodySize: Number.MAX_SAFE_INTEGER,
          idleTimeoutSecs: 255,
        }),
      )
    : undefined;
  const opened = async <T>(open: () => Promise<T>): Promise<T> => {
    try {
      return await open();
    } catch (error) {
      http?.stop(true);
      throw error;
    }
  };
  const metricsServer = options.allowMetrics
    ? await opened(() =>
        listen("metrics", "--metrics-port", options.metricsAddress, options.metricsPort, () =>
          serveHttp({
            port: options.metricsPort,
            hostname: options.metricsAddress,
            fetch: async (request) => {
              if (new URL(request.url).pathname !== "/metrics")
                return new Response("Not Found\n", { status: 404 });
              return new Response(await metrics.registry.metrics(), {
                headers: { "content-type": metrics.registry.contentType },
              });
            },
          }),
        ),
      )
    : undefined;
  const grpc = options.allowGrpc
    ? await opened(() =>
        listen("gRPC", "--grpc-port", options.grpcAddress, options.grpcPort, () =>
          startGrpcServer(service, {
            port: options.grpcPort,
            address: options.grpcAddress,
            maxMessageBytes: options.grpcMaxMessageBytes,
            restrictions: parseRestrictions(options.grpcRestrictedProtocol, "--grpc-restricted-protocol"),
          }),
        ),
      ).catch((error: unknown) => {
        metricsServer?.stop(true);
        throw error;
      })
    : undefined;
  return {
    http,
    grpc,
    metrics: metricsServer,
    /** From here on HTTP answers close their connection and gRPC sessions get GOAWAY. */
    drain() {
      draining = true;
      grpc?.drain();
    },
    async stop() {
      // In-flight answers are written before connections close (bounded against stuck clients).
      if (http) await Promise.race([http.stop(false), sleep(1000)]);
      http?.stop(true);
      metricsServer?.stop(true);
      metrics.stop();
      await grpc?.stop();
    },
  };
}

async function createSource(options: ServeOptions, log: Logger): Promise<ModelSource> {
  const cache = new ArtifactCache(join(options.modelCacheDir, "artifacts"), (message) => log.info(message));
  // The AWS SDK adds ~20 MB to the process: loaded only for an S3 repository.
  const s3 = options.modelRepositories.some((path) => path.startsWith("s3://"))
    ? await import("../repository/s3/s3-source.ts")
    : undefined;
  const sources = options.modelRepositories.map((path) =>
    s3 && path.startsWith("s3://") ? new s3.S3Source(path, options.s3, cache) : new LocalSource(path),
  );
  return sources.length === 1 ? (sources[0] as ModelSource) : new CombinedSource(sources);
}

async function modelsToLoad(options: ServeOptions, manager: ModelManager): Promise<string[]> {
  if (options.controlMode !== "explicit" || options.loadModels.includes("*"))
    return manager.repositoryModels();
  return options.loadModels;
}
