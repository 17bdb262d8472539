import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPrefetch } from "../../src/cli/prefetch.ts";
import { runPromote } from "../../src/cli/promote.ts";
import type { CommandOutput } from "../../src/cli/repository-command.ts";
import { TestRepository } from "../support/model-repo.ts";
import { identityModel } from "../support/onnx-builder.ts";
import { freePort } from "../support/ports.ts";
import { S3rver } from "../support/s3rver.ts";
import { startTestServer } from "../support/test-server.ts";

const s3 = new S3rver();
const caches: string[] = [];
const newCache = () => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-prefetch-"));
  caches.push(dir);
  return dir;
};

async function command(run: (argv: string[], output: CommandOutput) => Promise<number>, argv: string[]) {
  let text = "";
  const output = { out: (chunk: string) => (text += chunk), err: (chunk: string) => (text += chunk) };
  return { code: await run(argv, output), text };
}

const blobs = (cache: string) => readdirSync(join(cache, "artifacts", "blobs"), { recursive: true }).length;

beforeAll(async () => {
  await s3.start();
  const repo = new TestRepository()
    .addModel("m", {
      config: "max_batch_size: 2",
      versions: { 1: identityModel("FP32", ["b", 2]), 2: identityModel("FP32", ["batch", 2]) },
    })
    .addModel("plain", { config: "max_batch_size: 2", versions: { 1: identityModel("FP32", ["n", 2]) } });
  await s3.upload(repo.root, "repo/");
  repo.remove();
  expect((await command(runPromote, ["m", "2", `--repository=${s3.url("repo")}`, "--by=test"])).code).toBe(0);
});

afterAll(async () => {
  await s3.stop();
  await s3.remove();
  for (const dir of caches) rmSync(dir, { recursive: true, force: true });
});

describe("ferry prefetch", () => {
  it("downloads and verifies what a server would load, then nothing the second time", async () => {
    const cache = newCache();
    const first = await command(runPrefetch, [
      `--repository=${s3.url("repo")}`,
      `--model-cache-dir=${cache}`,
    ]);
    expect(first.text).toContain("m version 2 (manifest revision 1): 1 file(s) present and verified");
    expect(first.text).toContain("plain version 1 (version_policy): 1 file(s) present and verified");
    expect(first.text).not.toContain("m version 1 ");
    expect(first.text).toMatch(/2 of 2 version\(s\), 2 file\(s\) .* \(2 downloaded/);
    expect(first.code).toBe(0);
    const stored = blobs(cache);
    const second = await command(runPrefetch, [
      `--repository=${s3.url("repo")}`,
      `--model-cache-dir=${cache}`,
    ]);
    expect(second.code).toBe(0);
    expect(second.text).toContain("(0 downloaded, the rest already cached)");
    expect(blobs(cache)).toBe(stored);
  });

  it("leaves a server on the same cache nothing to download", async () => {
    const cache = newCache();
    expect(
      (await command(runPrefetch, [`--repository=${s3.url("repo")}`, `--model-cache-dir=${cache}`])).code,
    ).toBe(0);
    // Were the server to download the pinned file again, it would get these bytes and refuse them.
    await s3.put("repo/m/2/model.onnx", identityModel("FP32", ["other", 2]));
    const server = await startTestServer(s3.url("repo"), [`--model-cache-dir=${cache}`]);
    try {
      expect((await fetch(`${server.url}/v2/models/m/versions/2/ready`)).status).toBe(200);
    } finally {
      await server.stop({ graceSecs: 0 });
      await s3.put("repo/m/2/model.onnx", identityModel("FP32", ["batch", 2]));
    }
  });

  it("refuses an object that does not match its pin, naming it, exit 1", async () => {
    await s3.put("repo/m/2/model.onnx", identityModel("FP32", ["other", 2]));
    try {
      const result = await command(runPrefetch, [
        `--repository=${s3.url("repo")}`,
        `--model-cache-dir=${newCache()}`,
      ]);
      expect(result.code).toBe(1);
      expect(result.text).toContain("m version 2:");
      expect(result.text).toContain("model.onnx");
      expect(result.text).toMatch(/sha256|checksum|does not match/);
      expect(result.text).toContain("1 of 2 version(s)");
    } finally {
      // Put the promoted bytes back for the other tests.
      await s3.put("repo/m/2/model.onnx", identityModel("FP32", ["batch", 2]));
    }
  });

  it("exits 1 with the reason when S3 cannot be reached", async () => {
    const down = `s3://127.0.0.1:${freePort()}/models/repo`;
    const result = await command(runPrefetch, [
      `--repository=${down}`,
      `--model-cache-dir=${newCache()}`,
      "--s3-timeout-ms=2000",
      "--s3-max-attempts=1",
    ]);
    expect(result.code).toBe(1);
    expect(result.text).toContain("cannot reach S3 endpoint");
  });

  it("has nothing to do for a local repository", async () => {
    const result = await command(runPrefetch, ["--repository=/tmp/some-models"]);
    expect(result).toEqual({ code: 0, text: "/tmp/some-models is a local directory: nothing to prefetch\n" });
  });
});
