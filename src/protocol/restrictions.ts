import { FerryError } from "../core/errors.ts";

/** tritonserver's API groups for --http-restricted-api / --grpc-restricted-protocol. */
export const API_GROUPS = [
  "health",
  "metadata",
  "inference",
  "shared-memory",
  "model-config",
  "model-repository",
  "statistics",
  "trace",
  "logging",
] as const;

export type ApiGroup = (typeof API_GROUPS)[number];

export interface Restriction {
  key: string;
  value: string;
}

/** group → the header that must accompany calls to it. */
export type Restrictions = Map<ApiGroup, Restriction>;

/**
 * Parses `<group>[,<group>...]:<key>=<value>` specs (repeatable). A group
 * may appear in one restriction only, as in tritonserver.
 */
export function parseRestrictions(specs: readonly string[], flag: string): Restrictions {
  const restrictions: Restrictions = new Map();
  for (const spec of specs) {
    const match = /^([a-z,-]+):([^=]+)=(.*)$/.exec(spec);
    if (!match)
      throw new FerryError(
        "INVALID_ARGUMENT",
        "protocol",
        `${flag} expects <api>[,<api>...]:<key>=<value>, got '${spec}'`,
      );
    const [, groups, key, value] = match as unknown as [string, string, string, string];
    for (const group of groups.split(",")) {
      if (!(API_GROUPS as readonly string[]).includes(group)) {
        throw new FerryError(
          "INVALID_ARGUMENT",
          "protocol",
          `${flag}: unknown API '${group}' (one of ${API_GROUPS.join(", ")})`,
        );
      }
      if (restrictions.has(group as ApiGroup))
        throw new FerryError("INVALID_ARGUMENT", "protocol", `${flag}: API '${group}' is restricted twice`);
      restrictions.set(group as ApiGroup, { key: key.toLowerCase(), value });
    }
  }
  return restrictions;
}

/** The group of a GRPCInferenceService (or grpc.health.v1) method. */
export function groupOfMethod(service: string, method: string): ApiGroup | undefined {
  if (service === "grpc.health.v1.Health") return "health";
  if (["ServerLive", "ServerReady", "ModelReady"].includes(method)) return "health";
  if (["ServerMetadata", "ModelMetadata"].includes(method)) return "metadata";
  if (["ModelInfer", "ModelStreamInfer"].includes(method)) return "inference";
  if (method === "ModelConfig") return "model-config";
  if (method === "ModelStatistics") return "statistics";
  if (method.startsWith("Repository")) return "model-repository";
  if (method.includes("SharedMemory")) return "shared-memory";
  if (method === "TraceSetting") return "trace";
  if (method === "LogSettings") return "logging";
  return undefined;
}

/**
 * Whether the load API may write model code: only when the operator asked
 * (--allow-code-overrides) and no protocol with restricted APIs leaves the
 * model-repository group open — code from an unauthenticated caller would
 * run with the server's rights.
 */
export function codeOverridesAllowed(asked: boolean, ...protocols: Restrictions[]): boolean {
  return (
    asked &&
    protocols.every((restrictions) => restrictions.size === 0 || restrictions.has("model-repository"))
  );
}
