import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ServeOptions, serveOptions } from "../../src/cli/serve-options.ts";
import type { Json } from "../support/json.ts";
import { addSimple, TestRepository } from "../support/model-repo.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

const deploy = join(import.meta.dir, "../../deploy");
const documents = (path: string): Json[] => {
  const parsed = Bun.YAML.parse(readFileSync(join(deploy, path), "utf8"));
  return Array.isArray(parsed) ? parsed : [parsed];
};
const kind = (docs: Json[], name: string) => {
  const found = docs.find((doc) => doc.kind === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
};
const defaults = serveOptions(["--model-repository=/m"]) as ServeOptions;

const repo = addSimple(new TestRepository());
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

describe("deploy/kubernetes/deployment.yaml", () => {
  const docs = documents("kubernetes/deployment.yaml");
  const deployment = kind(docs, "Deployment");
  const container = deployment.spec.template.spec.containers[0];

  it("exposes the CLI's default ports", () => {
    const ports = Object.fromEntries(container.ports.map((port: Json) => [port.name, port.containerPort]));
    expect(ports).toEqual({
      http: defaults.httpPort,
      grpc: defaults.grpcPort,
      metrics: defaults.metricsPort,
    });
    const service = kind(docs, "Service");
    expect(service.spec.ports.map((port: Json) => port.port)).toEqual([8000, 8001, 8002]);
  });

  it("only passes flags ferry accepts", () => {
    expect(() => serveOptions(container.args)).not.toThrow();
  });

  it("probes live for liveness and startup, ready for readiness, and both routes answer", async () => {
    expect(container.livenessProbe.httpGet.path).toBe("/v2/health/live");
    expect(container.startupProbe.httpGet.path).toBe("/v2/health/live");
    expect(container.readinessProbe.httpGet.path).toBe("/v2/health/ready");
    expect(
      container.startupProbe.failureThreshold * container.startupProbe.periodSeconds,
    ).toBeGreaterThanOrEqual(300);
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect((await fetch(`${server.url}${probe.httpGet.path}`)).status).toBe(200);
    }
  });

  it("gives the pod longer to stop than ferry's drain grace plus exit timeout", () => {
    const options = serveOptions(container.args) as ServeOptions;
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(
      options.drainGraceSecs + options.exitTimeoutSecs,
    );
  });
});

describe("deploy/kubernetes/hpa.yaml", () => {
  const docs = documents("kubernetes/hpa.yaml");

  it("scales the Deployment on the metric the adapter rule derives from ferry's real counters", async () => {
    const hpa = kind(docs, "HorizontalPodAutoscaler");
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: "ferry" });
    const metric = hpa.spec.metrics[0].pods.metric.name;
    const rules = Bun.YAML.parse(kind(docs, "ConfigMap").data["config.yaml"]) as Json;
    expect(rules.rules[0].name.as).toBe(metric);
    const exposed = await (await fetch(server.metricsUrl)).text();
    for (const series of rules.rules[0].metricsQuery.match(/nv_[a-z_]+/g))
      expect(exposed).toContain(`# TYPE ${series} counter`);
  });
});

describe("deploy/kserve/serving-runtime.yaml", () => {
  const docs = documents("kserve/serving-runtime.yaml");
  const runtime = kind(docs, "ServingRuntime");
  const container = runtime.spec.containers[0];

  it("declares the v2 protocol and the onnx format", () => {
    expect(runtime.spec.protocolVersions).toContain("v2");
    expect(runtime.spec.supportedModelFormats[0].name).toBe("onnx");
  });

  it("listens where it says, with flags ferry accepts, probing real routes", () => {
    const options = serveOptions(container.args) as ServeOptions;
    expect(container.ports[0].containerPort).toBe(options.httpPort);
    expect(container.livenessProbe.httpGet.port).toBe(options.httpPort);
    expect(container.livenessProbe.httpGet.path).toBe("/v2/health/live");
    expect(container.readinessProbe.httpGet.path).toBe("/v2/health/ready");
  });

  it("is the runtime the InferenceService asks for", () => {
    const service = kind(docs, "InferenceService");
    expect(service.spec.predictor.model.runtime).toBe(runtime.metadata.name);
    expect(service.spec.predictor.model.protocolVersion).toBe("v2");
  });
});

describe("deploy/Dockerfile", () => {
  const dockerfile = readFileSync(join(deploy, "Dockerfile"), "utf8");

  it("builds on oven/bun and runs ferry on the default ports", () => {
    expect(dockerfile).toMatch(/^FROM oven\/bun:/m);
    expect(dockerfile).toMatch(/^EXPOSE 8000 8001 8002$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["bun", "src\/main.ts"\]$/m);
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(dockerfile)?.[1] ?? "[]");
    expect(() => serveOptions(cmd)).not.toThrow();
  });
});
