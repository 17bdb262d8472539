#!/usr/bin/env bun
import { appendFileSync } from "node:fs";
/**
 * ferry: an inference server with tritonserver's flags, model repository
 * and v2 protocols. `ferry [serve] [flags]` serves; `ferry promote`,
 * `ferry rollback` and `ferry status` manage promotion manifests.
 */
import { FlagError, formatHelp } from "./cli/flags.ts";
import { SERVE_FLAGS, serveOptions } from "./cli/serve-options.ts";
import { createLogger } from "./core/log.ts";

// Loaded on demand: `ferry promote` need not load ONNX Runtime and the servers.
const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  promote: async (argv) => (await import("./cli/promote.ts")).runPromote(argv),
  rollback: async (argv) => (await import("./cli/promote.ts")).runRollback(argv),
  status: async (argv) => (await import("./cli/status.ts")).runStatus(argv),
  prefetch: async (argv) => (await import("./cli/prefetch.ts")).runPrefetch(argv),
};

async function main(argv: string[]): Promise<number> {
  const command = argv[0] === "serve" ? undefined : COMMANDS[argv[0] ?? ""];
  if (command) return command(argv.slice(1));
  if (argv[0] === "serve") return serve(argv.slice(1));
  return serve(argv);
}

async function serve(argv: string[]): Promise<number> {
  let options: ReturnType<typeof serveOptions>;
  try {
    options = serveOptions(argv);
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`ferry: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (options === "help") {
    process.stdout.write(
      formatHelp(
        "Usage: ferry [serve] --model-repository=<path|s3://...> [flags]\n       ferry promote <model> <version> --repository=<...>   (see ferry promote --help)\n       ferry rollback <model> --repository=<...>\n       ferry status <model> --repository=<...> [--server=<url>]\n       ferry prefetch --repository=s3://... --model-cache-dir=<dir>",
        SERVE_FLAGS,
      ),
    );
    return 0;
  }
  if (options.logFile) {
    try {
      appendFileSync(options.logFile, "");
    } catch (error) {
      process.stderr.write(`ferry: --log-file ${options.logFile}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  const log = createLogger({
    verbose: options.logVerbose,
    info: options.logInfo,
    warning: options.logWarning,
    error: options.logError,
    format: options.logFormat,
    ...(options.logFile ? { write: appendTo(options.logFile) } : {}),
  });
  for (const warning of options.compatibilityWarnings) log.warn(warning);
  const { startServer } = await import("./cli/serve.ts");
  const { StartupError } = await import("./cli/startup-error.ts");
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(options, log);
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    log.error(error.message);
    return 1;
  }
  if (!server.startupSucceeded && options.exitOnError) {
    log.error("a model failed to load and --exit-on-error is set: exiting");
    await server.stop({ graceSecs: 0 });
    return 1;
  }
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: shutting down`);
      void server.stop().then(({ timedOut }) => {
        if (timedOut)
          log.error(`exit timeout of ${options.exitTimeoutSecs}s expired with requests still running`);
        resolve(timedOut ? 1 : 0);
      });
    };
    process.on("SIGINT", () => onSignal("SIGINT"));
    process.on("SIGTERM", () => onSignal("SIGTERM"));
  });
}

/** --log-file: lines appended as they come (synchronously, so the last lines survive an exit). */
function appendTo(path: string): (line: string) => void {
  return (line) => appendFileSync(path, line);
}

process.exit(await main(process.argv.slice(2)));
