import { afterAll, describe, expect, it } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { addReshaper, addSimple, TestRepository } from "../support/model-repo.ts";
import { until } from "../support/until.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const repo = addReshaper(addSimple(new TestRepository()));
const broken = addSimple(new TestRepository()).addModel("broken", { config: "max_batch: 1" });
const started: Subprocess[] = [];

afterAll(() => {
  for (const child of started) child.kill("SIGKILL");
  repo.remove();
  broken.remove();
});

function spawnFerry(args: string[]) {
  const child = Bun.spawn([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe" });
  started.push(child);
  return child;
}

/** Reads stderr until the server reports its HTTP port; returns the port and what was read. */
async function waitForPort(
  child: Subprocess<"ignore", "pipe", "pipe">,
): Promise<{ port: number; log: () => string }> {
  let log = "";
  const reader = child.stderr.getReader();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    log += new TextDecoder().decode(value);
    const match = /HTTP on 127\.0\.0\.1:(\d+)/.exec(log);
    if (match) {
      void (async () => {
        for (;;) {
          const next = await reader.read();
          if (next.done) return;
          log += new TextDecoder().decode(next.value);
        }
      })();
      return { port: Number(match[1]), log: () => log };
    }
  }
  throw new Error(`server did not start:\n${log}`);
}

const serveArgs = (root: string, ...extra: string[]) => [
  `--model-repository=${root}`,
  "--http-address=127.0.0.1",
  "--http-port=0",
  "--grpc-port=0",
  "--metrics-port=0",
  "--drain-grace-secs=0",
  ...extra,
];

describe("ferry (the process)", () => {
  it("exits 2 naming an unknown flag", async () => {
    const child = spawnFerry(["--model-repository=/x", "--bogus"]);
    expect(await child.exited).toBe(2);
    expect(await new Response(child.stderr).text()).toBe("ferry: unknown flag '--bogus' (see --help)\n");
  });

  it("exits 2 naming a bad value", async () => {
    const child = spawnFerry(["--model-repository=/x", "--grpc-port=x"]);
    expect(await child.exited).toBe(2);
    expect(await new Response(child.stderr).text()).toContain(
      "flag '--grpc-port' expects an integer, got 'x'",
    );
  });

  it("runs promote, status and rollback as subcommands with their own exit codes", async () => {
    const run = async (...args: string[]) => {
      const child = spawnFerry(args);
      return {
        code: await child.exited,
        out: await new Response(child.stdout).text(),
        err: await new Response(child.stderr).text(),
      };
    };
    const promoted = await run("promote", "simple", "1", `--repository=${repo.root}`, "--by=test");
    expect(promoted).toMatchObject({ code: 0 });
    expect(promoted.out).toContain("promoted simple version 1");
    const status = await run("status", "simple", `--repository=${repo.root}`);
    expect(status.code).toBe(0);
    expect(status.out).toContain("revision 1, promoted by test");
    const rollback = await run("rollback", "simple", `--repository=${repo.root}`);
    expect(rollback.code).toBe(1);
    expect(rollback.err).toContain(
      "ferry: repository: model 'simple' has no earlier revision to roll back to",
    );
    const usage = await run("promote", "simple", `--repository=${repo.root}`);
    expect(usage.code).toBe(2);
    expect(usage.err).toContain("ferry: expected <model> <version>, got 'simple'");
    expect((await run("promote", "--help")).out).toContain("Usage: ferry promote <model> <version>");
    rmSync(join(repo.root, "simple", "promotion.json"));
  });

  it("prints help and exits 0", async () => {
    const child = spawnFerry(["--help"]);
    expect(await child.exited).toBe(0);
    const help = await new Response(child.stdout).text();
    for (const flag of [
      "--model-repository",
      "--model-control-mode",
      "--strict-readiness",
      "--exit-timeout-secs",
      "--log-verbose",
    ]) {
      expect(help).toContain(flag);
    }
  });

  it("serves, then on SIGTERM unloads every session and exits 0 without crashing", async () => {
    const child = spawnFerry(serveArgs(repo.root));
    const { port, log } = await waitForPort(child);
    await until(
      "the server is ready",
      () =>
        fetch(`http://127.0.0.1:${port}/v2/health/ready`).then(
          (response) => response.status === 200,
          () => false,
        ),
      20_000,
    );
    const failing = await fetch(`http://127.0.0.1:${port}/v2/models/reshaper/infer`, {
      method: "POST",
      body: JSON.stringify({
        inputs: [
          { name: "DATA", shape: [2], datatype: "FP32", data: [1, 2] },
          { name: "SHAPE", shape: [2], datatype: "INT64", data: [5, 5] },
        ],
      }),
    });
    expect(failing.status).toBe(500);
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    expect(log()).toContain("SIGTERM: shutting down");
    expect(log()).toContain("model 'simple' version 1 unloaded");
    expect(log()).not.toMatch(/panic|Segmentation fault|NAPI FATAL|oh no/i);
  });

  it("stays live but not ready when a model fails to load, with the reason logged", async () => {
    const child = spawnFerry(serveArgs(broken.root));
    const { port, log } = await waitForPort(child);
    await until("the start-up log says ready", () => log().includes("ready: "), 20_000);
    expect((await fetch(`http://127.0.0.1:${port}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${port}/v2/models/simple/ready`)).status).toBe(200);
    expect(log()).toMatch(
      /model 'broken'.* is not ready: config: .*broken\/config\.pbtxt:1:1: unknown field 'max_batch'/,
    );
    child.kill("SIGINT");
    expect(await child.exited).toBe(0);
  });

  it("exits 1 when a model fails to load and --exit-on-error is set", async () => {
    const child = spawnFerry(serveArgs(broken.root, "--exit-on-error=true"));
    expect(await child.exited).toBe(1);
    expect(await new Response(child.stderr).text()).toContain("--exit-on-error is set");
  });

  it("loads only --load-model models in explicit mode", async () => {
    const child = spawnFerry(serveArgs(repo.root, "--model-control-mode=explicit", "--load-model=simple"));
    const { port, log } = await waitForPort(child);
    await until("the start-up log says ready", () => log().includes("ready: "), 20_000);
    expect((await fetch(`http://127.0.0.1:${port}/v2/models/simple/ready`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/v2/models/reshaper/ready`)).status).toBe(404);
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  });
});
