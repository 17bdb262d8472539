import { join } from "node:path";
import type { Json } from "./json.ts";

const CLIENT = join(import.meta.dir, "../protocol/grpc/grpc-js-client.cjs");

/**
 * Runs one scenario of the @grpc/grpc-js client under Node.js (an
 * independent gRPC stack) against a gRPC port and returns its JSON result.
 */
export async function runGrpcJs(port: number, scenario: string, argument?: unknown): Promise<Json> {
  const args = ["node", CLIENT, String(port), scenario];
  if (argument !== undefined) args.push(JSON.stringify(argument));
  const child = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`grpc-js client failed (${code}): ${stderr}${stdout}`);
  return JSON.parse(stdout);
}
