import { createRequire } from "node:module";
import packageJson from "../../package.json" with { type: "json" };
import type { CheckResult } from "./checks.ts";

/** What serves a model, as `ferry promote` records it and a serving host compares. */
export interface Runtime {
  ferry: string;
  onnxruntime_node: string;
  bun: string;
  execution_provider: "cpu" | "cuda";
}

/** --runtime-mismatch: auto warns on patch differences and refuses major/minor ones (and another execution provider). */
export type RuntimePolicy = "auto" | "warn" | "refuse";

/** This process's runtime, for a version whose instances run on `executionProvider`. */
export function currentRuntime(executionProvider: Runtime["execution_provider"]): Runtime {
  return {
    ferry: packageJson.version,
    onnxruntime_node: onnxRuntimeVersion(),
    bun: Bun.version,
    execution_provider: executionProvider,
  };
}

function onnxRuntimeVersion(): string {
  try {
    return (createRequire(import.meta.url)("onnxruntime-node/package.json") as { version: string }).version;
  } catch {
    return "absent";
  }
}

/**
 * The `runtime` check: the promoted runtime against this host's, both
 * sides in the detail. PASS when equal, SKIP when the manifest recorded
 * none; otherwise WARN or FAIL as the policy says.
 */
export function runtimeCheck(
  recorded: Runtime | undefined,
  current: Runtime,
  policy: RuntimePolicy,
): CheckResult {
  const describe = (runtime: Runtime) =>
    `ferry ${runtime.ferry}, onnxruntime-node ${runtime.onnxruntime_node}, bun ${runtime.bun}, ${runtime.execution_provider}`;
  const result = (status: CheckResult["status"], detail: string): CheckResult => ({
    name: "runtime",
    status,
    detail,
    durationMs: 0,
  });
  if (!recorded) return result("SKIP", "the promotion manifest records no runtime");
  const differences: { what: string; level: "patch" | "minor" }[] = [];
  for (const key of ["ferry", "onnxruntime_node", "bun"] as const) {
    const level = versionDifference(recorded[key], current[key]);
    if (level) differences.push({ what: `${key.replace("_", "-")} differs in its ${level} version`, level });
  }
  if (recorded.execution_provider !== current.execution_provider)
    differences.push({ what: "the execution provider differs", level: "minor" });
  const sides = `promoted with ${describe(recorded)}; this host runs ${describe(current)}`;
  if (differences.length === 0) return result("PASS", `same runtime as promoted: ${describe(current)}`);
  const refuse =
    policy === "refuse" || (policy === "auto" && differences.some((entry) => entry.level === "minor"));
  const rule =
    policy === "auto"
      ? "--runtime-mismatch=auto refuses major, minor and provider differences, warns on patch ones"
      : `--runtime-mismatch=${policy}`;
  return result(
    refuse ? "FAIL" : "WARN",
    `${sides}: ${differences.map((entry) => entry.what).join(", ")} (${rule})`,
  );
}

/** "patch" when only the third number differs, "minor" for anything more (or versions that are not x.y.z). */
function versionDifference(a: string, b: string): "patch" | "minor" | undefined {
  if (a === b) return undefined;
  const parse = (text: string) => /^(\d+)\.(\d+)\.(\d+)/.exec(text);
  const [x, y] = [parse(a), parse(b)];
  if (!x || !y) return "minor";
  return x[1] === y[1] && x[2] === y[2] ? "patch" : "minor";
}
