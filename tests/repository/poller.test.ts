import { afterAll, describe, expect, it } from "bun:test";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../src/core/log.ts";
import { LocalSource } from "../../src/repository/local-source.ts";
import type { ModelManager } from "../../src/repository/model-manager.ts";
import { RepositoryPoller } from "../../src/repository/poller.ts";
import { promote } from "../../src/repository/promotion.ts";
import { createManager } from "../support/manager.ts";
import { TestRepository } from "../support/model-repo.ts";
import { identityModel } from "../support/onnx-builder.ts";
import { until } from "../support/until.ts";

const repos: TestRepository[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  for (const repo of repos) repo.remove();
});

function logger(lines: string[]): Logger {
  const add = (line: string) => lines.push(line);
  return { info: add, warn: add, error: add, verbose: () => {} };
}

function start(root: string, manager: ModelManager, keepPolling = true) {
  const lines: string[] = [];
  const source = new LocalSource(root);
  const poller = new RepositoryPoller(manager, {
    models: () => source.list(),
    keepPolling,
    intervalMs: 40,
    maxBackoffMs: 40,
    log: logger(lines),
  });
  cleanups.push(async () => {
    await poller.stop();
    await manager.shutdown();
  });
  return { poller, lines };
}

const states = (manager: ModelManager, model: string) =>
  manager.versionStatus(model).map((status) => `${status.version}:${status.state}`);

describe("RepositoryPoller in poll mode", () => {
  it("converges: new versions, promotions, new and removed models", async () => {
    const repo = new TestRepository().addModel("m", {
      config: "max_batch_size: 2",
      versions: { 1: identityModel("FP32", ["b", 2]) },
    });
    repos.push(repo);
    const manager = createManager(repo.root);
    const { poller } = start(repo.root, manager);
    await poller.firstPass();
    poller.start();
    expect(states(manager, "m")).toEqual(["1:READY"]);
    const first = manager.resolve("m");

    await Bun.sleep(150);
    expect(manager.resolve("m")).toBe(first);

    mkdirSync(join(repo.root, "m", "2"));
    writeFileSync(join(repo.root, "m", "2", "model.onnx"), identityModel("FP32", ["b", 2]));
    await until("version 2 serves", () => manager.resolve("m").version === "2");
    await until("version 1 unloads", () => states(manager, "m").join() === "1:UNAVAILABLE,2:READY");

    await promote(new LocalSource(repo.root), "m", "1");
    await until("the manifest's version 1 serves", () => manager.resolve("m").version === "1");

    repo.addModel("n", { config: "max_batch_size: 2", versions: { 1: identityModel("FP32", ["b", 2]) } });
    await until("n loads", () => states(manager, "n").join() === "1:READY");
    renameSync(join(repo.root, "n"), join(repo.root, ".n-removed"));
    await until("n unloads", () => states(manager, "n").join() === "1:UNAVAILABLE");
  });

  it("keeps serving through a bad promotion and loads the fixed one", async () => {
    const repo = new TestRepository().addModel("m", {
      config: "max_batch_size: 2",
      versions: { 1: identityModel("FP32", ["b", 2]), 2: new Uint8Array([1, 2, 3]) },
    });
    repos.push(repo);
    const store = new LocalSource(repo.root);
    await promote(store, "m", "1");
    const manager = createManager(repo.root);
    const { poller } = start(repo.root, manager);
    await poller.firstPass();
    poller.start();
    await promote(store, "m", "2");
    await until("version 2 fails", () => states(manager, "m").join() === "1:READY,2:UNAVAILABLE");
    expect(manager.resolve("m").version).toBe("1");
    writeFileSync(join(repo.root, "m", "2", "model.onnx"), identityModel("FP32", ["b", 2]));
    await promote(store, "m", "2");
    await until("the fixed version 2 serves", () => manager.resolve("m").version === "2");
  });
});

describe("RepositoryPoller at start-up", () => {
  it("retries with backoff while the repository cannot be listed, then loads and stops", async () => {
    const repo = new TestRepository();
    repos.push(repo);
    const root = join(repo.root, "later");
    const manager = createManager(root);
    const { poller, lines } = start(root, manager, false);
    await poller.firstPass();
    poller.start();
    expect(poller.listed).toBe(false);
    expect(lines[0]).toContain("cannot list the model repository: repository: cannot read model repository");
    expect(lines[0]).toContain("(attempt 1; retrying in");
    await Bun.sleep(200);
    // Several retries later, the unchanged failure has been said once.
    expect(lines.filter((line) => line.includes("cannot list the model repository"))).toHaveLength(1);
    mkdirSync(join(root, "m", "1"), { recursive: true });
    writeFileSync(join(root, "m", "config.pbtxt"), "max_batch_size: 2");
    writeFileSync(join(root, "m", "1", "model.onnx"), identityModel("FP32", ["b", 2]));
    await until("m loads", () => states(manager, "m").join() === "1:READY");
    expect(poller.listed).toBe(true);
    await until("the poller settles", () => poller.settled);
    expect(lines.at(-1)).toBe("model repository reachable again");
    rmSync(join(root, "m", "1"), { recursive: true });
    await Bun.sleep(150);
    expect(states(manager, "m")).toEqual(["1:READY"]);
  });
});
