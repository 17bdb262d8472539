#!/usr/bin/env bun
/**
 * ferry: an inference server with tritonserver's flags, model repository
 * and v2 protocols. `ferry [flags]` serves; see --help.
 */
import { FlagError, formatHelp } from "./cli/flags.ts";
import { startServer } from "./cli/serve.ts";
import { SERVE_FLAGS, serveOptions } from "./cli/serve-options.ts";
import { createLogger } from "./core/log.ts";

async function main(argv: string[]): Promise<number> {
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
    process.stdout.write(formatHelp("Usage: ferry --model-repository=<path> [flags]", SERVE_FLAGS));
    return 0;
  }
  const log = createLogger(options.logVerbose);
  const server = await startServer(options, log);
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

process.exit(await main(process.argv.slice(2)));
