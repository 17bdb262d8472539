import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { ConsoleApi } from "../../../src/console/api.ts";
import { GRPCInferenceService } from "../../../src/gen/grpc_service_pb.ts";
import { LocalSource } from "../../../src/repository/local-source.ts";
import { promote } from "../../../src/repository/promotion.ts";
import { addSimple, TestRepository } from "../../support/model-repo.ts";
import { identityModel } from "../../support/onnx-builder.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

const repo = addSimple(new TestRepository()).addModel("canary", {
  config: "max_batch_size: 2 version_policy { all {} }",
  versions: { 1: identityModel("FP32", ["b", 2]), 2: identityModel("FP32", ["b", 2]) },
});
const KEY = { header: "admin-key", value: "s3cret" };
let server: TestServer;
let withoutConsole: TestServer;

beforeAll(async () => {
  const store = new LocalSource(repo.root);
  await promote(store, "canary", "1", { by: "alice", note: "first release" });
  await promote(store, "canary", "2", { by: "bob", weight: 10 });
  [server, withoutConsole] = await Promise.all([
    startTestServer(repo.root, [
      "--model-control-mode=explicit",
      "--load-model=*",
      `--http-restricted-api=model-repository:${KEY.header}=${KEY.value}`,
    ]),
    startTestServer(repo.root, ["--console=false"]),
  ]);
});
afterAll(async () => {
  await Promise.all([server.stop(), withoutConsole.stop()]);
  repo.remove();
});

describe("the web console on the HTTP port", () => {
  it("serves a page that loads its script and stylesheet from this server only", async () => {
    const response = await fetch(`${server.url}/console`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    const page = await response.text();
    expect(page).toContain('<script type="module" src="/console/console.js">');
    expect(page).toContain('<link rel="stylesheet" href="/console/console.css">');
    expect(page).not.toMatch(/(src|href)="https?:/);
  });

  it("bundles the console from source with no URL to load code from", async () => {
    const response = await fetch(`${server.url}/console/console.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const script = await response.text();
    expect(script).toContain("ferry console");
    // preact's XML namespace names are the only URLs in it: nothing from a CDN.
    const urls = new Set(script.match(/https?:\/\/[^"'`\s)]+/g));
    expect([...urls].filter((url) => !url.startsWith("http://www.w3.org/"))).toEqual([]);
    expect(script).not.toMatch(/import\s*\(?\s*["']https?:/);
  });

  it("serves the stylesheet as CSS", async () => {
    const response = await fetch(`${server.url}/console/console.css`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(await response.text()).toContain(".ocr-box");
  });

  it("is not served with --console=false", async () => {
    for (const path of ["/console", "/console/console.js", "/console/console.css"]) {
      const response = await fetch(`${withoutConsole.url}${path}`);
      expect(response.status).toBe(404);
    }
    expect((await fetch(`${withoutConsole.url}/v2/health/live`)).status).toBe(200);
  });
});

describe("what the console reads and changes", () => {
  it("shows canary splits and promotion history at /v2/promotions", async () => {
    const { models } = (await (await fetch(`${server.url}/v2/promotions`)).json()) as {
      models: { name: string; routes: unknown; current?: Record<string, unknown>; history: unknown[] }[];
    };
    const canary = models.find((model) => model.name === "canary");
    expect(canary?.routes).toEqual([
      { version: "1", weight: 90 },
      { version: "2", weight: 10 },
    ]);
    expect(canary?.current).toMatchObject({ revision: 2, promoted_by: "bob" });
    expect(canary?.history).toMatchObject([
      { revision: 1, promoted_by: "alice", note: "first release", serving: [{ version: "1", weight: 100 }] },
    ]);
    const simple = models.find((model) => model.name === "simple");
    expect(simple).toEqual({ name: "simple", routes: [{ version: "1", weight: 100 }], history: [] });
  });

  it("cannot load or unload without the restricted-API key, and can with it", async () => {
    const readOnly = new ConsoleApi(server.url);
    await expect(readOnly.unload("simple")).rejects.toThrow(
      "POST /v2/repository/models/simple/unload: 403 This API is restricted, expecting header 'admin-key'",
    );
    expect((await readOnly.readiness()).models.map((model) => model.name)).toEqual(["canary", "simple"]);
    const withKey = new ConsoleApi(server.url, KEY);
    await withKey.load("simple");
    expect((await withKey.repositoryIndex()).some((row) => row.name === "simple")).toBe(true);
  });

  for (const [protocol, makeTransport] of [
    ["Connect", createConnectTransport],
    ["gRPC-web", createGrpcWebTransport],
  ] as const) {
    it(`sends Server-Timing on ModelInfer answers over ${protocol}`, async () => {
      const client = createClient(GRPCInferenceService, makeTransport({ baseUrl: server.url }));
      let timing: string | null = null;
      await client.modelInfer(
        {
          modelName: "simple",
          inputs: [
            { name: "INPUT0", datatype: "INT32", shape: [1n, 16n] },
            { name: "INPUT1", datatype: "INT32", shape: [1n, 16n] },
          ],
          rawInputContents: [new Uint8Array(64), new Uint8Array(64)],
        },
        { onHeader: (headers) => (timing = headers.get("server-timing")) },
      );
      expect(timing).toMatch(/^queue;dur=[0-9.]+, compute_input;dur=[0-9.]+, compute_infer;dur=[0-9.]+/);
    });
  }
});
