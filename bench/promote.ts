/**
 * Time from `ferry promote` to the new version answering, for a ~50 MB
 * model on a loopback s3rver, next to the raw time to download the same
 * file and create an ORT session from it, measured in the same run.
 *
 * Two ways a promotion reaches a server are timed: explicit mode (promote,
 * then the repository load API) and poll mode (--repository-poll-secs=1,
 * so up to a second of the time is the poll interval).
 * Each round promotes the other of two versions with the server's cache
 * emptied first, so every round downloads, verifies and loads 50 MB.
 *
 *   bun bench/promote.ts            (BENCH_ROUNDS=3 by default)
 */

import { rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import * as ort from "onnxruntime-node";
import { BUCKET, S3rver } from "../tests/support/s3rver.ts";
import { mlpModel } from "./mlp.ts";
import { freePort, startProcess, stopAll } from "./processes.ts";
import { round } from "./stats.ts";

const WIDTH = 2048;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MAIN = join(import.meta.dir, "../src/main.ts");

const config = `backend: "onnxruntime"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ ${WIDTH} ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ ${WIDTH} ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
`;

const work = await mkdtemp(join(tmpdir(), "ferry-bench-promote-"));
const s3 = await new S3rver().start();
const models = [mlpModel(WIDTH, 3, 1), mlpModel(WIDTH, 3, 2)];
const megabytes = (models[0]?.byteLength ?? 0) / 1e6;
await s3.put("repo/m/config.pbtxt", config);
for (const [index, bytes] of models.entries()) await s3.put(`repo/m/${index + 1}/model.onnx`, bytes);
const repository = s3.url("repo");

async function ferry(args: string[]): Promise<void> {
  const child = Bun.spawn([process.execPath, MAIN, ...args], {
    stdout: "ignore",
    stderr: "pipe",
    env: process.env,
  });
  if ((await child.exited) !== 0)
    throw new Error(`ferry ${args.join(" ")}: ${await new Response(child.stderr).text()}`);
}

/** Raw path: GetObject to a file, then create the session. */
async function raw(version: number): Promise<number> {
  const started = performance.now();
  const client = s3.client();
  const got = await client.send(
    new GetObjectCommand({ Bucket: BUCKET, Key: `repo/m/${version}/model.onnx` }),
  );
  const path = join(work, `raw-${version}.onnx`);
  writeFileSync(path, (await got.Body?.transformToByteArray()) ?? new Uint8Array());
  const session = await ort.InferenceSession.create(path);
  const elapsed = performance.now() - started;
  await session.release();
  rmSync(path);
  return elapsed;
}

async function answeringVersion(url: string): Promise<string | undefined> {
  const response = await fetch(`${url}/v2/models/m/infer`, {
    method: "POST",
    body: JSON.stringify({
      inputs: [{ name: "INPUT0", shape: [1, WIDTH], datatype: "FP32", data: new Array(WIDTH).fill(0.5) }],
    }),
  }).catch(() => undefined);
  return response?.ok ? ((await response.json()) as { model_version: string }).model_version : undefined;
}

async function untilAnswering(url: string, version: number): Promise<void> {
  const deadline = performance.now() + 120_000;
  while ((await answeringVersion(url)) !== String(version)) {
    if (performance.now() > deadline) throw new Error(`version ${version} never answered`);
    await Bun.sleep(5);
  }
}

interface Row {
  mode: string;
  round: number;
  rawMs: number;
  ferryMs: number;
  promoteMs: number;
}

async function measure(mode: "explicit" | "poll"): Promise<Row[]> {
  const cacheDir = join(work, `cache-${mode}`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  await ferry(["promote", "m", "1", `--repository=${repository}`, "--by=bench"]);
  const flags = [
    MAIN,
    `--model-repository=${repository}`,
    "--http-address=127.0.0.1",
    `--http-port=${port}`,
    `--grpc-port=${await freePort()}`,
    `--metrics-port=${await freePort()}`,
    `--model-cache-dir=${cacheDir}`,
    "--readiness-check-interval-secs=0",
    ...(mode === "explicit"
      ? ["--model-control-mode=explicit", "--load-model=m"]
      : ["--model-control-mode=poll", "--repository-poll-secs=1"]),
  ];
  await startProcess(flags, `${url}/v2/health/ready`);
  const rows: Row[] = [];
  for (let index = 0; index < ROUNDS; index++) {
    const version = index % 2 === 0 ? 2 : 1;
    rmSync(join(cacheDir, "artifacts"), { recursive: true, force: true });
    const rawFirst = index % 2 === 0;
    const rawMs = rawFirst ? await raw(version) : 0;
    const started = performance.now();
    await ferry(["promote", "m", String(version), `--repository=${repository}`, "--by=bench"]);
    const promoteMs = performance.now() - started;
    if (mode === "explicit") {
      const loaded = await fetch(`${url}/v2/repository/models/m/load`, { method: "POST", body: "{}" });
      if (!loaded.ok) throw new Error(`load failed: ${await loaded.text()}`);
    }
    await untilAnswering(url, version);
    const ferryMs = performance.now() - started;
    rows.push({ mode, round: index + 1, rawMs: rawFirst ? rawMs : await raw(version), ferryMs, promoteMs });
  }
  stopAll();
  await Bun.sleep(500);
  return rows;
}

try {
  const rows = [...(await measure("explicit")), ...(await measure("poll"))];
  console.log(
    `model: ${round(megabytes)} MB ONNX (MLP ${WIDTH} wide, 3 layers); s3rver on loopback; ${ROUNDS} rounds per mode\n`,
  );
  console.log(
    "| mode | round | raw download + session (ms) | ferry promote → answering (ms) | of which `ferry promote` (ms) | ratio |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const row of rows) {
    console.log(
      `| ${row.mode} | ${row.round} | ${round(row.rawMs)} | ${round(row.ferryMs)} | ${round(row.promoteMs)} | ${round(row.ferryMs / row.rawMs, 2)}× |`,
    );
  }
  for (const mode of ["explicit", "poll"]) {
    const ratios = rows
      .filter((row) => row.mode === mode)
      .map((row) => row.ferryMs / row.rawMs)
      .sort((a, b) => a - b);
    console.log(`\n${mode}: median ratio ${round(ratios[Math.floor(ratios.length / 2)] ?? 0, 2)}×`);
  }
} finally {
  stopAll();
  await s3.remove();
  rmSync(work, { recursive: true, force: true });
}
