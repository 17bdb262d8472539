import { RUNTIME } from "./runtime.ts";

export interface HttpServeOptions {
  hostname: string;
  /** 0 picks a free port; the listener's `port` says which. */
  port: number;
  fetch: (request: Request) => Response | Promise<Response>;
  /** Bun only: larger bodies are refused before the handler sees them (Deno sets no limit). */
  maxRequestBodySize?: number;
  /** Bun only: seconds an idle connection stays open (Deno.serve has no such option). */
  idleTimeoutSecs?: number;
}

export interface HttpListener {
  readonly port: number;
  /**
   * Stops listening. Without `force` it resolves once the answers in flight
   * are written; with it Bun closes every connection at once, while Deno,
   * which has no abrupt close, stops listening and lets the rest go with
   * the process.
   */
  stop(force?: boolean): Promise<void>;
}

/**
 * An HTTP/1.1 listener for a fetch handler: Bun.serve under Bun (the
 * handler is passed through untouched, so the request path costs nothing
 * extra), Deno.serve under Deno. Throws at once when the port cannot be
 * opened, with the error's `code` (EADDRINUSE, EACCES) on both.
 */
export function serveHttp(options: HttpServeOptions): HttpListener {
  return RUNTIME === "deno" ? serveWithDeno(options) : serveWithBun(options);
}

function serveWithBun(options: HttpServeOptions): HttpListener {
  const server = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    fetch: options.fetch,
    ...(options.maxRequestBodySize === undefined ? {} : { maxRequestBodySize: options.maxRequestBodySize }),
    ...(options.idleTimeoutSecs === undefined ? {} : { idleTimeout: options.idleTimeoutSecs }),
  });
  return { port: server.port ?? options.port, stop: (force) => server.stop(force) };
}

function serveWithDeno(options: HttpServeOptions): HttpListener {
  const server = Deno.serve(
    { hostname: options.hostname, port: options.port, onListen: () => {} },
    (request) => options.fetch(request),
  );
  let stopped: Promise<void> | undefined;
  return {
    port: server.addr.port,
    stop: (force) => {
      stopped ??= server.shutdown();
      return force ? Promise.resolve() : stopped;
    },
  };
}
