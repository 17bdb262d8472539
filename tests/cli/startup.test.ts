import { afterAll, describe, expect, it } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { runStatus } from "../../src/cli/status.ts";
import { TestRepository } from "../support/model-repo.ts";
import { freePort } from "../support/ports.ts";
import { until } from "../support/until.ts";

const ROOT = join(import.meta.dir, "../..");
const MAIN = join(ROOT, "src/main.ts");
const empty = new TestRepository();
const started: Subprocess[] = [];

afterAll(() => {
  for (const child of started) child.kill("SIGKILL");
  empty.remove();
});

function spawn(command: string[], env: Record<string, string | undefined> = process.env) {
  const child = Bun.spawn(command, { cwd: ROOT, stdout: "pipe", stderr: "pipe", env });
  started.push(child);
  return child;
}

const output = async (child: Subprocess<"ignore", "pipe", "pipe">) =>
  (await new Response(child.stdout).text()) + (await new Response(child.stderr).text());

describe("process and packaging", () => {
  it("keeps src/main.ts executable, so the ferry bin runs from a fresh checkout", () => {
    expect(statSync(MAIN).mode & 0o111).toBe(0o111);
  });

  it("passes SIGTERM through npm start to the server, which drains and exits", async () => {
    const [http, grpc, metrics] = [freePort(), freePort(), freePort()];
    const npm = spawn([
      "npm",
      "start",
      "--silent",
      "--",
      `--http-port=${http}`,
      `--grpc-port=${grpc}`,
      `--metrics-port=${metrics}`,
      "--http-address=127.0.0.1",
      "--grpc-address=127.0.0.1",
      "--metrics-address=127.0.0.1",
      "--model-control-mode=explicit",
      "--drain-grace-secs=0",
      "--exit-timeout-secs=1",
    ]);
    const live = () =>
      fetch(`http://127.0.0.1:${http}/v2/health/live`)
        .then((response) => response.status === 200)
        .catch(() => false);
    await until("the server behind npm start answers", live, 30_000);
    npm.kill("SIGTERM");
    expect(await npm.exited).toBe(0);
    const log = await output(npm);
    expect(log).toContain("SIGTERM: shutting down");
    // Had npm left the server behind (it used to), the port would still answer.
    expect(await live()).toBe(false);
  }, 60_000);
});

describe("clear start-up failures", () => {
  for (const [endpoint, flag] of [
    ["HTTP", "--http-port"],
    ["gRPC", "--grpc-port"],
    ["metrics", "--metrics-port"],
  ] as const) {
    it(`reports ${endpoint}'s port in use as one line naming ${flag}, exit 1`, async () => {
      const busy = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("busy") });
      try {
        const ports: Record<string, number> = {
          "--http-port": freePort(),
          "--grpc-port": freePort(),
          "--metrics-port": freePort(),
        };
        ports[flag] = busy.port as number;
        const ferry = spawn([
          process.execPath,
          MAIN,
          `--model-repository=${empty.root}`,
          "--http-address=127.0.0.1",
          "--grpc-address=127.0.0.1",
          "--metrics-address=127.0.0.1",
          ...Object.entries(ports).map(([name, port]) => `${name}=${port}`),
        ]);
        expect(await ferry.exited).toBe(1);
        const log = await output(ferry);
        expect(log).toContain(
          `${endpoint} port 127.0.0.1:${busy.port} is already in use (choose another with ${flag})`,
        );
        expect(log).not.toMatch(/^\s+at /m);
      } finally {
        busy.stop(true);
      }
    }, 30_000);
  }

  it("exits 1 from ferry status for a model with no promotion manifest", async () => {
    const lines: string[] = [];
    const code = await runStatus(["m", `--repository=${empty.root}`], {
      out: (text) => lines.push(text),
      err: (text) => lines.push(text),
    });
    expect(code).toBe(1);
    expect(lines.join("")).toContain("no promotion manifest");
  });

  it("prints perf's usage for --help", async () => {
    const perf = spawn([process.execPath, join(ROOT, "bench/perf.ts"), "--help"]);
    expect(await perf.exited).toBe(0);
    expect(await output(perf)).toContain("Usage: npm run perf -- --model <name>");
  });
});
