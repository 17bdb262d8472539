import { expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileSize, readFileBytes } from "../../src/runtime/files.ts";
import { runCommand } from "../../src/runtime/process.ts";
import { RUNTIME, runtimeVersion } from "../../src/runtime/runtime.ts";
import { sleep } from "../../src/runtime/timers.ts";

it("knows it runs under Bun here, with Bun's bare version", () => {
  expect(RUNTIME).toBe("bun");
  expect(runtimeVersion()).toBe(Bun.version);
});

it("reads a file's size and bytes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-runtime-"));
  try {
    writeFileSync(join(dir, "f"), new Uint8Array([1, 2, 3]));
    expect(fileSize(join(dir, "f"))).toBe(3);
    expect(Array.from(await readFileBytes(join(dir, "f")))).toEqual([1, 2, 3]);
    expect(() => fileSize(join(dir, "missing"))).toThrow();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it("runs a command for its output, and answers -1 for one that is not installed", () => {
  expect(runCommand(["sh", "-c", "echo hello; exit 3"], 5000)).toEqual({ exitCode: 3, stdout: "hello\n" });
  expect(runCommand(["ferry-no-such-command"], 5000).exitCode).toBe(-1);
  expect(runCommand(["sleep", "5"], 100).exitCode).toBe(-1);
});

it("sleeps for at least the time asked", async () => {
  const start = performance.now();
  await sleep(30);
  expect(performance.now() - start).toBeGreaterThanOrEqual(25);
});
