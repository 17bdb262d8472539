/**
 * `npm run bench:profile`: where ferry's time goes at concurrency 1. For each
 * load (none, HTTP binary, HTTP JSON, gRPC, Connect) a fresh ferry process
 * runs under Bun's CPU profiler serving the bench MLP (3×1024 FP32) with a
 * plain config (no threading parameters, batching off); one client sends
 * single-row requests. Prints per run: CPU per request by thread (from
 * /proc), the JS thread's sampled time per request and its top self-time
 * functions. Profiles are kept in bench/out/profiles/. All load goes to
 * 127.0.0.1.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type HotFunction, hotFunctions, threadDelta } from "./cpu-profile.ts";
import { grpcSender } from "./grpc-sender.ts";
import { httpSender, runLoad, type Send } from "./load.ts";
import { MLP_WIDTH, mlpConfig, mlpModel } from "./mlp.ts";
import { cpuByThread } from "./process-cpu.ts";
import { loopbackListeners, startProcess } from "./processes.ts";
import { fp32Request, randomValues } from "./tensors.ts";

const root = join(import.meta.dir, "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const top = Number(process.env.BENCH_TOP ?? 12);
const intervalUs = 250;
const label = process.env.BENCH_LABEL ?? "run";
/** BENCH_SAMPLING=0: no profiler (its sampling costs the JS thread ~10-20%), only CPU by thread. */
const sampling = process.env.BENCH_SAMPLING !== "0";

const repo = mkdtempSync(join(tmpdir(), "ferry-profile-"));
mkdirSync(join(repo, "mlp", "1"), { recursive: true });
writeFileSync(join(repo, "mlp", "1", "model.onnx"), mlpModel());
// BENCH_CONFIG: extra config.pbtxt lines, e.g. parameters, to profile a variant.
writeFileSync(
  join(repo, "mlp", "config.pbtxt"),
  `${mlpConfig("mlp", false, 1)}\n${process.env.BENCH_CONFIG ?? ""}`,
);
const profiles = join(root, "bench/out/profiles");
mkdirSync(profiles, { recursive: true });

const values = randomValues(MLP_WIDTH);
type Load = { name: string; send?: (http: string, grpc: string) => Send };
const allLoads: Load[] = [
  { name: "idle" },
  {
    name: "binary",
    send: (http) =>
      httpSender(`${http}/v2/models/mlp/infer`, fp32Request("INPUT0", [1, MLP_WIDTH], values, "binary")),
  },
  {
    name: "json",
    send: (http) =>
      httpSender(`${http}/v2/models/mlp/infer`, fp32Request("INPUT0", [1, MLP_WIDTH], values, "json")),
  },
  {
    name: "grpc",
    send: (_, grpc) =>
      grpcSender(grpc, {
        modelName: "mlp",
        inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1n, BigInt(MLP_WIDTH)] }],
        rawInputContents: [new Uint8Array(values.buffer)],
      }),
  },
];

// BENCH_LOADS: a comma-separated subset of idle,binary,json,grpc.
const chosen = process.env.BENCH_LOADS?.split(",");
const loads = allLoads.filter((load) => !chosen || chosen.includes(load.name));

interface Row {
  run: string;
  requests: number;
  "req/s": number;
  "p50 µs": number;
  "server CPU µs/req": number;
  "JS sampled µs/req": number;
  threads: Record<string, number>;
  hot: HotFunction[];
}

const rows: Row[] = [];
try {
  for (const load of loads) rows.push(await profileRun(load));
} finally {
  rmSync(repo, { recursive: true, force: true });
}
const summary = rows.map(({ threads, hot: _, ...row }) => ({ ...row, ...threads }));
console.table(summary);
for (const row of rows) {
  console.log(`\n${row.run}: top self time on the JS thread (${row["JS sampled µs/req"]} µs/req sampled)`);
  console.table(row.hot.map((entry) => ({ ...entry })));
}
writeFileSync(join(root, `bench/out/profile-${label}.json`), JSON.stringify(rows, null, 2));

async function profileRun(load: Load): Promise<Row> {
  const listeners = await loopbackListeners();
  const http = listeners.http;
  const name = `${label}-${load.name}.cpuprofile`;
  const server = await startProcess(
    [
      ...(sampling
        ? [
            "--cpu-prof",
            `--cpu-prof-dir=${profiles}`,
            `--cpu-prof-name=${name}`,
            `--cpu-prof-interval=${intervalUs}`,
          ]
        : []),
      join(root, "src/main.ts"),
      `--model-repository=${repo}`,
      ...listeners.flags,
      "--exit-timeout-secs=0",
      "--disable-auto-complete-config",
    ],
    `${http}/v2/health/ready`,
  );
  const send = load.send?.(http, `http://127.0.0.1:${listeners.grpcPort}`);
  let threadsBefore = new Map<string, number>();
  let threadsAfter = new Map<string, number>();
  let window: [number, number] = [0, 0];
  const measureMs = seconds * 1000;
  const onWindow = {
    start: async () => {
      threadsBefore = cpuByThread(server.pid);
      window = [Date.now(), 0];
    },
    end: async () => {
      window[1] = Date.now();
      threadsAfter = cpuByThread(server.pid);
    },
  };
  let requests = 0;
  let rate = 0;
  let p50 = 0;
  if (send) {
    const result = await runLoad({ send, concurrency: 1, warmupMs: 1000, measureMs, onWindow });
    requests = result.latenciesUs.length;
    rate = result.throughput;
    p50 = result.latency.p50Us;
  } else {
    await Bun.sleep(1000);
    await onWindow.start();
    await Bun.sleep(measureMs);
    await onWindow.end();
  }
  await stop(server);
  // Idle: per second instead of per request.
  const per = requests > 0 ? requests : seconds;
  const threads = threadDelta(threadsBefore, threadsAfter, per);
  const profile = sampling
    ? hotFunctions(join(profiles, name), { intervalUs, requests: per, top, windowMs: window })
    : { jsUsPerRequest: 0, hot: [] };
  const serverCpu = Object.values(threads).reduce((sum, us) => sum + us, 0);
  console.error(
    `${load.name}: ${rate} req/s, p50 ${p50} µs, ${Math.round(serverCpu)} µs CPU per ${requests > 0 ? "request" : "second"}`,
  );
  return {
    run: requests > 0 ? `${load.name}, c=1 (per request)` : "idle (per second)",
    requests,
    "req/s": rate,
    "p50 µs": p50,
    "server CPU µs/req": Math.round(serverCpu),
    "JS sampled µs/req": profile.jsUsPerRequest,
    threads,
    hot: profile.hot,
  };
}

/** SIGTERM, then wait for the exit so the profile is written. */
async function stop(server: Subprocess): Promise<void> {
  server.kill("SIGTERM");
  const exited = await Promise.race([server.exited.then(() => true), Bun.sleep(15_000).then(() => false)]);
  if (!exited) server.kill("SIGKILL");
}
