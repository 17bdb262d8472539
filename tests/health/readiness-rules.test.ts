import { afterAll, describe, expect, it } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { readJson } from "../support/json.ts";
import { addSimple, TestRepository } from "../support/model-repo.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";
import { until } from "../support/until.ts";

const repos: TestRepository[] = [];
const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  for (const repo of repos) repo.remove();
});

async function serve(repo: TestRepository, flags: string[]): Promise<TestServer> {
  repos.push(repo);
  const server = await startTestServer(repo.root, flags);
  servers.push(server);
  return server;
}

const post = (server: TestServer, path: string) =>
  fetch(`${server.url}${path}`, { method: "POST", body: "{}" });
const ready = async (server: TestServer) => (await fetch(`${server.url}/v2/health/ready`)).status;
async function required(server: TestServer): Promise<Record<string, boolean>> {
  const report = await readJson(await fetch(`${server.url}/v2/health/ready?verbose=true`));
  return Object.fromEntries(
    report.models.map((model: { name: string; required: boolean }) => [model.name, model.required]),
  );
}

describe("strict readiness counts the models the server is expected to serve", () => {
  it("stays ready through an explicit unload, loads of unknown or broken models, and their unloads", async () => {
    const repo = addSimple(addSimple(new TestRepository()), "victim").addModel("broken", {
      config: "max_batch: 4",
    });
    const server = await serve(repo, [
      "--model-control-mode=explicit",
      "--load-model=simple",
      "--load-model=victim",
    ]);
    expect(await ready(server)).toBe(200);

    expect((await post(server, "/v2/repository/models/victim/unload")).status).toBe(200);
    expect(await ready(server)).toBe(200);
    await until(
      "victim unloaded",
      async () => (await fetch(`${server.url}/v2/models/victim/ready`)).status !== 200,
    );
    expect(await ready(server)).toBe(200);

    expect((await post(server, "/v2/repository/models/ghost/load")).status).toBe(404);
    expect(await ready(server)).toBe(200);
    expect((await post(server, "/v2/repository/models/ghost/unload")).status).toBe(200);
    expect(await ready(server)).toBe(200);

    expect((await post(server, "/v2/repository/models/broken/load")).status).toBe(400);
    expect(await ready(server)).toBe(200);
    expect(await required(server)).toEqual({ broken: false, ghost: false, simple: true, victim: false });

    // Loaded again successfully, a model counts again.
    expect((await post(server, "/v2/repository/models/victim/load")).status).toBe(200);
    expect(await required(server)).toMatchObject({ victim: true });
    expect(await ready(server)).toBe(200);
  });

  it("stays not ready for a model it started with that failed, until that model is unloaded", async () => {
    const repo = addSimple(new TestRepository()).addModel("broken", { config: "max_batch: 4" });
    const server = await serve(repo, ["--model-control-mode=explicit", "--load-model=*"]);
    expect(await ready(server)).toBe(400);
    expect(await required(server)).toEqual({ broken: true, simple: true });
    expect((await post(server, "/v2/repository/models/broken/unload")).status).toBe(200);
    expect(await ready(server)).toBe(200);
  });

  it("in poll mode, counts a failed model until it leaves the repository", async () => {
    const repo = addSimple(new TestRepository()).addModel("broken", { config: "max_batch: 4" });
    const server = await serve(repo, ["--model-control-mode=poll", "--repository-poll-secs=1"]);
    expect(await ready(server)).toBe(400);
    rmSync(join(repo.root, "broken"), { recursive: true });
    await until("ready once the broken model left", async () => (await ready(server)) === 200, 10_000);
  });
});
