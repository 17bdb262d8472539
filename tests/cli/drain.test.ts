import { afterAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { StageClock } from "../../src/core/stage-clock.ts";
import { TestRepository } from "../support/model-repo.ts";
import { addSlow, slowRequest } from "../support/slow-model.ts";
import { startTestServer } from "../support/test-server.ts";

const repo = addSlow(new TestRepository());
const MAIN = join(import.meta.dir, "../../src/main.ts");
const children: Subprocess[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  repo.remove();
});

describe("graceful drain (in process)", () => {
  it("goes not-ready at once, serves through the grace period, then refuses new inference while work finishes", async () => {
    const server = await startTestServer(repo.root, [
      "--disable-auto-complete-config",
      "--exit-timeout-secs=30",
    ]);
    const inFlight = Array.from({ length: 200 }, () => slowRequest(server.url));
    while (server.manager.resolve("slow").pendingCount() < 20) await Bun.sleep(5);
    const stopped = server.stop({ graceSecs: 1 });

    expect(server.service.serverReady()).toBe(false);
    expect(server.service.serverLive()).toBe(true);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(400);
    const duringGrace = slowRequest(server.url);

    while (server.state.phase !== "EXITING") await Bun.sleep(5);
    const refused = server.service.infer({
      model: "slow",
      inputs: [],
      parameters: {},
      signal: new AbortController().signal,
      timing: new StageClock(),
    });
    await expect(refused).rejects.toThrow("protocol: Server exiting");
    expect(() => server.service.serverLive()).toThrow("Server exiting");

    const answers = await Promise.all([...inFlight, duringGrace]);
    expect(answers.map((answer) => answer.status)).toEqual(new Array(201).fill(200));
    expect(await stopped).toEqual({ timedOut: false });
  });
});

function spawnFerry(args: string[]) {
  const child = Bun.spawn(
    [
      process.execPath,
      MAIN,
      `--model-repository=${repo.root}`,
      "--http-address=127.0.0.1",
      "--http-port=0",
      "--grpc-port=0",
      "--metrics-port=0",
      "--disable-auto-complete-config",
      ...args,
    ],
    {
      stdout: "ignore",
      stderr: "pipe",
    },
  );
  children.push(child);
  return child;
}

async function readyPort(
  child: Subprocess<"ignore", "ignore", "pipe">,
): Promise<{ url: string; log: () => string }> {
  let log = "";
  const reader = child.stderr.getReader();
  const decoder = new TextDecoder();
  const pump = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      log += decoder.decode(value);
    }
  };
  void pump();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const port = /HTTP on 127\.0\.0\.1:(\d+)/.exec(log)?.[1];
    if (port && log.includes("ready: ")) return { url: `http://127.0.0.1:${port}`, log: () => log };
    await Bun.sleep(20);
  }
  throw new Error(`ferry did not start:\n${log}`);
}

describe("graceful drain (the process)", () => {
  it("on SIGTERM finishes every request in flight and exits 0 within the exit timeout", async () => {
    const child = spawnFerry(["--drain-grace-secs=1", "--exit-timeout-secs=20"]);
    const { url, log } = await readyPort(child);
    const inFlight = Array.from({ length: 40 }, () => slowRequest(url));
    await Bun.sleep(30);
    const signalled = Date.now();
    child.kill("SIGTERM");
    const answers = await Promise.all(inFlight);
    expect(answers.map((answer) => answer.status)).toEqual(new Array(40).fill(200));
    expect(await child.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(20_000);
    expect(log()).toContain("draining: not ready, still serving for 1s");
    expect(log()).not.toMatch(/panic|Segmentation fault|NAPI FATAL/i);
  });

  it("at the exit timeout cancels what is left with a clear error and exits non-zero", async () => {
    const child = spawnFerry(["--drain-grace-secs=0", "--exit-timeout-secs=0"]);
    const { url, log } = await readyPort(child);
    const inFlight = Array.from({ length: 150 }, () =>
      slowRequest(url).catch(() => ({ status: 0, body: "connection lost" })),
    );
    await Bun.sleep(50);
    child.kill("SIGTERM");
    const answers = await Promise.all(inFlight);
    const cancelled = answers.filter((answer) => answer.status === 503);
    expect(cancelled.length).toBeGreaterThan(0);
    for (const answer of cancelled) {
      expect(JSON.parse(answer.body).error).toMatch(
        /^protocol: Server exiting(: the exit timeout of 0s expired before this request finished)?$/,
      );
    }
    expect(answers.every((answer) => answer.status === 200 || answer.status === 503)).toBe(true);
    expect(await child.exited).toBe(1);
    expect(log()).toContain("exit timeout of 0s expired");
  });
});
