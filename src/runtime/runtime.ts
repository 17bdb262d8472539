/**
 * Which JavaScript runtime runs this process, decided once here: the seam's
 * other modules branch on it, and nothing outside src/runtime/ asks.
 */
export type RuntimeName = "bun" | "deno";

export const RUNTIME: RuntimeName = typeof Deno !== "undefined" ? "deno" : "bun";

/**
 * The runtime's version as a promotion manifest records it: Bun's bare
 * version ("1.4.5"), or "deno 2.9.6" so that it can never pass for one.
 */
export function runtimeVersion(): string {
  return RUNTIME === "deno" ? `deno ${Deno.version.deno}` : Bun.version;
}
