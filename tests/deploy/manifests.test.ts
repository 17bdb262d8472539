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

describe("deploy/kubernetes/base/deployment.yaml", () => {
  const docs = documents("kubernetes/base/deployment.yaml");
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

  it("probes live for liveness, ready for startup and readiness, and both routes answer", async () => {
    expect(container.livenessProbe.httpGet.path).toBe("/v2/health/live");
    expect(container.startupProbe.httpGet.path).toBe("/v2/health/ready");
    expect(container.readinessProbe.httpGet.path).toBe("/v2/health/ready");
    expect(
      container.startupProbe.failureThreshold * container.startupProbe.periodSeconds,
    ).toBeGreaterThanOrEqual(300);
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect((await fetch(`${server.url}${probe.httpGet.path}`)).status).toBe(200);
    }
  });

  it("starts only once the models are loaded: the startup probe's route refuses while a model is not", async () => {
    const broken = addSimple(new TestRepository()).addModel("broken", { config: "max_batch: 1" });
    const starting = await startTestServer(broken.root);
    try {
      expect((await fetch(`${starting.url}${container.startupProbe.httpGet.path}`)).status).toBe(400);
      expect((await fetch(`${starting.url}${container.livenessProbe.httpGet.path}`)).status).toBe(200);
    } finally {
      await starting.stop();
      broken.remove();
    }
  });

  it("runs as non-root with a read-only root filesystem, writing only to the cache volume", () => {
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    const options = serveOptions(container.args) as ServeOptions;
    const cache = container.volumeMounts.find((mount: Json) => mount.mountPath === options.modelCacheDir);
    expect(cache).toBeDefined();
    expect(pod.volumes.find((volume: Json) => volume.name === cache.name).emptyDir).toBeDefined();
  });

  it("gives the pod longer to stop than ferry's drain grace plus exit timeout", () => {
    const options = serveOptions(container.args) as ServeOptions;
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(
      options.drainGraceSecs + options.exitTimeoutSecs,
    );
  });
});

describe("deploy/kubernetes/base/hpa.yaml", () => {
  const docs = documents("kubernetes/base/hpa.yaml");

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
  const root = join(import.meta.dir, "../..");
  const stages = dockerfile.split(/^(?=FROM )/m).filter((part) => part.startsWith("FROM "));
  const runtime = stages.at(-1) as string;

  it("runs ferry on oven/bun on the default ports, as the non-root bun user", () => {
    expect(runtime).toMatch(/^FROM oven\/bun:1\.4\.5-slim$/m);
    expect(runtime).toMatch(/^EXPOSE 8000 8001 8002$/m);
    expect(runtime).toMatch(/^USER bun$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["bun", "src\/main.ts"\]$/m);
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(runtime)?.[1] ?? "[]");
    expect(() => serveOptions(cmd)).not.toThrow();
    expect(cmd).toEqual(["--model-repository=/app/models"]);
  });

  it("installs production dependencies from the lockfile only, and checks health on readiness", () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toContain("COPY package.json package-lock.json ./");
    expect(dockerfile).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/v2\/health\/ready/m);
    // The bundled models' links into node_modules are resolved in the image.
    expect(dockerfile).toContain("cp -rL models /models-resolved");
    expect(runtime).toContain("COPY --from=models /models-resolved ./models");
  });

  it("needs no package outside package.json's dependencies at run time", () => {
    const dependencies = new Set(
      Object.keys(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).dependencies),
    );
    const seen = new Set<string>();
    const glob = new Bun.Glob("**/*.ts");
    for (const file of glob.scanSync(join(root, "src"))) {
      const text = readFileSync(join(root, "src", file), "utf8");
      for (const [, imported, loaded] of text.matchAll(
        /^(?:import(?! type)|export(?! type))[^"\n]*(?:\bfrom\s*|^import\s*)"([^".][^"]*)"|import\("([^".][^"]*)"\)/gm,
      )) {
        const specifier = imported ?? loaded;
        if (specifier?.startsWith("node:") || specifier === "bun") continue;
        const name = specifier?.startsWith("@")
          ? specifier.split("/").slice(0, 2).join("/")
          : specifier?.split("/")[0];
        seen.add(name as string);
        expect(`${file}: ${name}`).toBe(
          `${file}: ${dependencies.has(name as string) ? name : "(not a dependency)"}`,
        );
      }
    }
    // The scan sees the server's real imports (it is not vacuous).
    for (const name of ["elysia", "onnxruntime-node", "@connectrpc/connect-node", "prom-client"])
      expect(seen).toContain(name);
  });

  it("keeps the build context small: .dockerignore leaves out node_modules, .git and the tests", () => {
    const ignored = readFileSync(join(root, ".dockerignore"), "utf8").split("\n");
    for (const path of ["node_modules", ".git", "tests", "bench/out"]) expect(ignored).toContain(path);
  });
});
