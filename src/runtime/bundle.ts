import { existsSync, readFileSync } from "node:fs";
import { RUNTIME } from "./runtime.ts";

/**
 * Bundles browser code from `entrypoint` into one minified ES module:
 * Bun.build under Bun, from the sources as they are now. Under Deno, the
 * `prebuilt` bundle when it exists (npm install's `prepare` step makes it
 * with bun build), because Deno.bundle (--unstable-bundle) fetches esbuild
 * from the network on first use; Deno.bundle only without it. Throws with
 * the bundler's messages when the build fails.
 */
export async function bundleForBrowser(entrypoint: string, prebuilt?: string): Promise<string> {
  if (RUNTIME === "deno") {
    if (prebuilt && existsSync(prebuilt)) return readFileSync(prebuilt, "utf8");
    const result = await Deno.bundle({
      entrypoints: [entrypoint],
      platform: "browser",
      format: "esm",
      minify: true,
      write: false,
    });
    const output = result.outputFiles?.[0];
    if (!result.success || !output) throw new Error(result.errors.map((entry) => entry.text).join("; "));
    return output.text();
  }
  const result = await Bun.build({
    entrypoints: [entrypoint],
    target: "browser",
    format: "esm",
    minify: true,
  });
  const [output] = result.outputs;
  if (!result.success || !output) throw new Error(result.logs.map((entry) => String(entry)).join("; "));
  return output.text();
}
