import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Elysia } from "elysia";
import { FerryError } from "../../core/errors.ts";
import { bundleForBrowser } from "../../runtime/bundle.ts";
import { errorResponse } from "./status.ts";

/** The browser code of the console (src/console), bundled here and never imported. */
const CONSOLE_SOURCE = join(import.meta.dirname, "..", "..", "console");

/** The bundle `npm install` makes (package.json's prepare script), for runtimes that cannot bundle offline. */
const INSTALLED_BUNDLE = join(
  import.meta.dirname,
  "..",
  "..",
  "..",
  "node_modules",
  ".cache",
  "ferry",
  "console.js",
);

export const CONSOLE_PATH = "/console";
export const CONSOLE_SCRIPT = "/console/console.js";
export const CONSOLE_STYLES = "/console/console.css";

/**
 * Everything the page loads comes from this server; the API it talks to may
 * be another origin (`?server=`), hence `connect-src *`.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src *",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ferry console</title>
<link rel="stylesheet" href="${CONSOLE_STYLES}">
</head>
<body>
<div id="console">Loading the ferry console…</div>
<script type="module" src="${CONSOLE_SCRIPT}"></script>
</body>
</html>
`;

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
};

let bundle: Promise<string> | undefined;

/**
 * The console's script, bundled from source on first use (under Deno: the
 * bundle npm install made) and kept for the life of the process: nothing is
 * committed, nothing is fetched from a CDN. A failed build is retried by the
 * next request.
 */
export function consoleBundle(): Promise<string> {
  bundle ??= buildBundle().catch((error: unknown) => {
    bundle = undefined;
    throw error;
  });
  return bundle;
}

async function buildBundle(): Promise<string> {
  try {
    return await bundleForBrowser(join(CONSOLE_SOURCE, "main.ts"), INSTALLED_BUNDLE);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new FerryError("INTERNAL", "protocol", `console: bundling src/console failed: ${why}`);
  }
}

/**
 * GET /console (the page), its script and its stylesheet. Static and
 * read-only: what the page may change is up to the API it calls, whose
 * restricted-API gates apply to the console's requests like any other.
 */
export function addConsoleRoutes(app: Elysia): void {
  app.get(CONSOLE_PATH, () => new Response(PAGE, { headers: PAGE_HEADERS }));
  app.get(CONSOLE_SCRIPT, async () => {
    try {
      return new Response(await consoleBundle(), {
        headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" },
      });
    } catch (error) {
      return errorResponse(error);
    }
  });
  app.get(
    CONSOLE_STYLES,
    () =>
      new Response(readFileSync(join(CONSOLE_SOURCE, "console.css")), {
        headers: { "content-type": "text/css; charset=utf-8", "cache-control": "no-cache" },
      }),
  );
}
