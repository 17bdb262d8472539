import { createRequire } from "node:module";
import packageJson from "../../package.json" with { type: "json" };
import { runtimeVersion } from "../runtime/runtime.ts";
import type { CheckResult } from "./checks.ts";

/** What serves a model, as `ferry promote` records it and a serving host compares. */
export interface Runtime {
  ferry: string;
  onnxruntime_node: string;
  /** The JavaScript runtime: Bun's version, or "deno <version>" under Deno (the name predates Deno support). */
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
    bun: runtimeVersion(),
    execution_provider: executionProvider,
  };
}

/** The `bun` field names the JavaScript runtime: a bare version is Bun's, "deno 2.9.6" says which. */
const jsRuntimeName = (version: string) => (/^\d/.test(version) ? "bun" : (version.split(" ")[0] ?? version));
const jsRuntime = (version: string) => (/^\d/.test(version) ? `bun ${version}` : version);

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
    `ferry ${runtime.ferry}, onnxruntime-node ${runtime.onnxruntime_node}, ${jsRuntime(runtime.bun)}, ${runtime.execution_provider}`;
  const result = (status: CheckResult["status"], detail: string): CheckResult => ({
    name: "runtime",
    status,
    detail,
    durationMs: 0,
  });
  if (!recorded) return result("SKIP", "the promotion manifest records no runtime");
  const differences: { what: string; level: "patch" | "minor" }[] = [];
  const otherJsRuntime = jsRuntimeName(recorded.bun) !== jsRuntimeName(current.bun);
  if (otherJsRuntime) differences.push({ what: "the JavaScript runtime differs", level: "minor" });
  for (const key of ["ferry", "onnxruntime_node", "bun"] as const) {
    if (key === "bun" && otherJsRuntime) continue;
    const level = versionDifference(recorded[key], current[key]);
    const what = key === "bun" ? jsRuntimeName(current.bun) : key.replace("_", "-");
    if (level) differences.push({ what: `${what} differs in its ${level} version`, level });
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
  const parse = (text: string) => /^(?:deno )?(\d+)\.(\d+)\.(\d+)/.exec(text);
  const [x, y] = [parse(a), parse(b)];
  if (!x || !y) return "minor";
  return x[1] === y[1] && x[2] === y[2] ? "patch" : "minor";
}
