import { describe, expect, it } from "bun:test";
import { currentRuntime, type Runtime, runtimeCheck } from "../../src/health/runtime.ts";

const here = currentRuntime("cpu");
const bump = (version: string, part: 1 | 2) => {
  const numbers = version.split(".").map(Number);
  numbers[part] = (numbers[part] ?? 0) + 1;
  return numbers.join(".");
};
const patch: Runtime = { ...here, bun: bump(here.bun, 2) };
const minor: Runtime = { ...here, onnxruntime_node: bump(here.onnxruntime_node, 1) };
const otherProvider: Runtime = { ...here, execution_provider: "cuda" };

describe("the runtime check", () => {
  it("passes on the promoted runtime and skips when none was recorded", () => {
    expect(runtimeCheck(here, here, "auto")).toMatchObject({ status: "PASS" });
    expect(runtimeCheck(undefined, here, "refuse")).toMatchObject({ status: "SKIP" });
  });

  it("auto: warns on a patch difference, refuses a minor one or another execution provider, showing both sides", () => {
    const warned = runtimeCheck(patch, here, "auto");
    expect(warned.status).toBe("WARN");
    expect(warned.detail).toBe(
      `promoted with ferry ${here.ferry}, onnxruntime-node ${here.onnxruntime_node}, bun ${patch.bun}, cpu; this host runs ferry ${here.ferry}, onnxruntime-node ${here.onnxruntime_node}, bun ${here.bun}, cpu: bun differs in its patch version (--runtime-mismatch=auto refuses major, minor and provider differences, warns on patch ones)`,
    );
    expect(runtimeCheck(minor, here, "auto").status).toBe("FAIL");
    expect(runtimeCheck(minor, here, "auto").detail).toContain(
      "onnxruntime-node differs in its minor version",
    );
    expect(runtimeCheck(otherProvider, here, "auto").detail).toContain("the execution provider differs");
    expect(runtimeCheck(otherProvider, here, "auto").status).toBe("FAIL");
  });

  it("names Deno as the runtime, and refuses a version promoted under the other runtime under auto", () => {
    const deno: Runtime = { ...here, bun: "deno 2.9.6" };
    const check = runtimeCheck(here, deno, "auto");
    expect(check.status).toBe("FAIL");
    expect(check.detail).toContain(`bun ${here.bun}, cpu; this host runs ferry ${here.ferry}`);
    expect(check.detail).toContain(", deno 2.9.6, cpu: the JavaScript runtime differs (");
    expect(runtimeCheck(deno, { ...deno, bun: "deno 2.9.7" }, "auto").detail).toContain(
      "deno differs in its patch version",
    );
  });

  it("warn serves whatever differs; refuse refuses even a patch difference", () => {
    expect(runtimeCheck(minor, here, "warn").status).toBe("WARN");
    expect(runtimeCheck(patch, here, "refuse").status).toBe("FAIL");
  });
});
