import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningServer, type ServerDependencies, startServer } from "../../src/cli/serve.ts";
import { type ServeOptions, serveOptions } from "../../src/cli/serve-options.ts";
import { type Logger, silentLogger } from "../../src/core/log.ts";

/** A server started in this process on 127.0.0.1 and free ports (port 0: the OS picks). */
export interface TestServer extends RunningServer {
  url: string;
  grpcUrl: string;
  metricsUrl: string;
}

const cacheDir = mkdtempSync(join(tmpdir(), "ferry-cache-"));
process.on("exit", () => rmSync(cacheDir, { recursive: true, force: true }));

export async function startTestServer(
  repository: string,
  flags: string[] = [],
  dependencies: ServerDependencies = {},
  log: Logger = silentLogger,
): Promise<TestServer> {
  const options = serveOptions([
    `--model-repository=${repository}`,
    "--http-address=127.0.0.1",
    "--http-port=0",
    "--grpc-port=0",
    "--metrics-port=0",
    "--exit-timeout-secs=5",
    `--model-cache-dir=${cacheDir}`,
    "--drain-grace-secs=0",
    "--readiness-check-interval-secs=0",
    ...flags,
  ]) as ServeOptions;
  const server = await startServer(options, log, {
    devices: { gpus: [], cuda: false, cudaMissing: "no CUDA in tests" },
    ...dependencies,
  });
  return Object.assign(server, {
    url: `http://127.0.0.1:${server.httpPort}`,
    grpcUrl: `http://127.0.0.1:${server.grpcPort}`,
    metricsUrl: `http://127.0.0.1:${server.metricsPort}/metrics`,
  });
}

/** Value of one Prometheus sample, e.g. metric(text, 'nv_inference_count{model="simple",version="1"}'). */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
