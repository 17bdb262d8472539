import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { type ServeOptions, serveOptions } from "../../src/cli/serve-options.ts";
import type { Json } from "../support/json.ts";

const dir = join(import.meta.dir, "../../deploy/kubernetes");
const documents: { file: string; doc: Json }[] = readdirSync(dir)
  .filter((file) => file.endsWith(".yaml"))
  .flatMap((file) => {
    const parsed = Bun.YAML.parse(readFileSync(join(dir, file), "utf8"));
    return (Array.isArray(parsed) ? parsed : [parsed]).map((doc: Json) => ({ file, doc }));
  });

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
