import type { Subprocess } from "bun";
import { freePort } from "../tests/support/ports.ts";

export { freePort };

const children: Subprocess[] = [];

/** Starts a bun script and waits until `readyUrl` answers 200, or answers at all with `anyStatus` (at most 60 s). */
export async function startProcess(args: string[], readyUrl: string, anyStatus = false): Promise<Subprocess> {
  const child = Bun.spawn([process.execPath, ...args], {
    stdout: "ignore",
    stderr: "pipe",
    env: process.env,
  });
  children.push(child);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${args.join(" ")} exited: ${await new Response(child.stderr).text()}`);
    const ok = await fetch(readyUrl)
      .then((response) => anyStatus || response.status === 200)
      .catch(() => false);
    if (ok) return child;
    await Bun.sleep(100);
  }
  throw new Error(`${args.join(" ")} did not become ready at ${readyUrl}`);
}

/** ferry's three listeners on 127.0.0.1 and free ports, as flags, with the HTTP base URL and the metrics URL. */
export async function loopbackListeners(): Promise<{
  flags: string[];
  http: string;
  grpcPort: number;
  metrics: string;
}> {
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  return {
    flags: [
      "--http-address=127.0.0.1",
      `--http-port=${http}`,
      "--grpc-address=127.0.0.1",
      `--grpc-port=${grpc}`,
      "--metrics-address=127.0.0.1",
      `--metrics-port=${metrics}`,
    ],
    http: `http://127.0.0.1:${http}`,
    grpcPort: grpc,
    metrics: `http://127.0.0.1:${metrics}/metrics`,
  };
}

/** Stops every process this bench started, by PID. */
export function stopAll(): void {
  for (const child of children.splice(0)) child.kill("SIGTERM");
}

process.on("exit", stopAll);
