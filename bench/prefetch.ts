/**
 * `npm run bench:prefetch`: start-up from S3, cold vs prefetched, in the same
 * run. A loopback s3rver holds a ~50 MB model (an MLP 2048 wide), promoted
 * with a manifest. Each round times, with a fresh cache:
 *   cold        — ferry starting on the repository until /v2/health/ready;
 *   prefetch    — `ferry prefetch` into the cache (what an initContainer runs);
 *   warm start  — ferry starting on the prefetched cache until ready.
 *   bun bench/prefetch.ts   (BENCH_ROUNDS=3 by default)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3rver } from "../tests/support/s3rver.ts";
import { mlpModel } from "./mlp.ts";
import { freePort, startProcess, stopAll } from "./processes.ts";
import { round } from "./stats.ts";

const WIDTH = 2048;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MAIN = join(import.meta.dir, "../src/main.ts");

const s3 = await new S3rver().start();
const model = mlpModel(WIDTH, 3, 1);
await s3.put(
  "repo/m/config.pbtxt",
  `backend: "onnxruntime"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ ${WIDTH} ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ ${WIDTH} ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
`,
);
await s3.put("repo/m/1/model.onnx", model);
const repository = s3.url("repo");

async function run(args: string[]): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn([process.execPath, MAIN, ...args], {
    stdout: "ignore",
    stderr: "pipe",
    env: process.env,
  });
  if ((await child.exited) !== 0)
    throw new Error(`ferry ${args[0]}: ${await new Response(child.stderr).text()}`);
  return performance.now() - started;
}

/** Milliseconds from spawning a server on `cache` until it is ready. */
async function start(cache: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const server = await startProcess(
    [
      MAIN,
      `--model-repository=${repository}`,
      `--model-cache-dir=${cache}`,
      "--http-address=127.0.0.1",
      `--http-port=${port}`,
      "--allow-grpc=false",
      "--allow-metrics=false",
      "--exit-timeout-secs=0",
    ],
    `http://127.0.0.1:${port}/v2/health/ready`,
  );
  const elapsed = performance.now() - started;
  server.kill("SIGTERM");
  await server.exited;
  return elapsed;
}

try {
  await run(["promote", "m", "1", `--repository=${repository}`, "--by=bench"]);
  const rows = [];
  for (let index = 0; index < ROUNDS; index++) {
    const cold = mkdtempSync(join(tmpdir(), "ferry-cold-"));
    const warm = mkdtempSync(join(tmpdir(), "ferry-warm-"));
    const coldMs = await start(cold);
    const prefetchMs = await run(["prefetch", `--repository=${repository}`, `--model-cache-dir=${warm}`]);
    const warmMs = await start(warm);
    rows.push({
      round: index + 1,
      "cold start ms": round(coldMs),
      "prefetch ms": round(prefetchMs),
      "start after prefetch ms": round(warmMs),
      "prefetch + start ms": round(prefetchMs + warmMs),
    });
    rmSync(cold, { recursive: true, force: true });
    rmSync(warm, { recursive: true, force: true });
  }
  console.log(`\n${round(model.byteLength / 1e6)} MB model on loopback s3rver, ${new Date().toISOString()}`);
  console.table(rows);
} finally {
  stopAll();
  await s3.stop();
  await s3.remove();
}
