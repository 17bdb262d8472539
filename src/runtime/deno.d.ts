/**
 * The few Deno APIs ferry calls, declared here so that type-checking needs
 * only bun-types. At run time `Deno` exists under Deno alone; read it
 * through runtime.ts, never directly.
 */
declare namespace Deno {
  const version: { deno: string };

  interface ServeOptions {
    port: number;
    hostname: string;
    /** Called once listening; given, it also silences Deno's own "Listening on" line. */
    onListen?: (address: { hostname: string; port: number }) => void;
  }

  interface HttpServer {
    readonly addr: { hostname: string; port: number };
    /** Stops accepting connections; resolves once requests in flight are answered. */
    shutdown(): Promise<void>;
  }

  function serve(
    options: ServeOptions,
    handler: (request: Request) => Response | Promise<Response>,
  ): HttpServer;

  interface BundleOptions {
    entrypoints: string[];
    platform: "browser";
    format: "esm";
    minify: boolean;
    write: false;
  }

  interface BundleResult {
    success: boolean;
    errors: { text: string }[];
    outputFiles?: { text(): string }[];
  }

  /** Needs --unstable-bundle. */
  function bundle(options: BundleOptions): Promise<BundleResult>;
}
