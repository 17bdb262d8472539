/**
 * `npm run bench:goodput`: batching policies under open-loop load, as
 * perf_analyzer's --request-rate-range offers it. Requests arrive as a
 * Poisson process at a fixed rate, independent of the answers, so queueing
 * shows as it does in production. One ferry serves the bench MLP several
 * times — batching off, and dynamic batching with a fixed
 * max_queue_delay_microseconds of 0, 500, 2000 and 8000 — and each is
 * offered 25/50/75/90/110 % of the capacity measured first (closed loop,
 * 64 outstanding, the 500 µs policy). Goodput = answers within the latency
 * objective (BENCH_OBJECTIVE_MS, default 50) per second. Prints a table,
 * writes bench/out/goodput.json and the plot bench/goodput.svg.
 * Knobs: BENCH_SECONDS per window (default 4), BENCH_OBJECTIVE_MS.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpSender, runLoad, type Send } from "./load.ts";
import { MLP_WIDTH, mlpConfig, mlpModel } from "./mlp.ts";
import { loopbackListeners, startProcess, stopAll } from "./processes.ts";
import { round, summarize } from "./stats.ts";
import { lineChart } from "./svg-plot.ts";
import { fp32Request, randomValues } from "./tensors.ts";

const root = join(import.meta.dir, "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const objectiveMs = Number(process.env.BENCH_OBJECTIVE_MS ?? 50);
const SHARES = [0.25, 0.5, 0.75, 0.9, 1.1];
/** Requests outstanding at most: beyond it an arrival counts as dropped (the client's limit, not the server's). */
const MAX_OUTSTANDING = 4096;

const POLICIES: { name: string; model: string; batching: string }[] = [
  { name: "batching off", model: "mlp_off", batching: "" },
  ...[0, 500, 2000, 8000].map((us) => ({
    name: `fixed ${us} µs`,
    model: `mlp_d${us}`,
    batching: `dynamic_batching { max_queue_delay_microseconds: ${us} }`,
  })),
];

/** Open loop: arrivals at exponential intervals (mean 1/rate), each answered or not, never waited for. */
async function openLoop(send: Send, rate: number, ms: number) {
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  let dropped = 0;
  let outstanding = 0;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  let next = start;
  while (next - start < ms) {
    next += (-Math.log(1 - Math.random()) / rate) * 1000;
    const wait = next - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    if (outstanding >= MAX_OUTSTANDING) {
      dropped++;
      continue;
    }
    sent++;
    outstanding++;
    const began = performance.now();
    const request = send()
      .then(
        (ok) => {
          if (ok) latencies.push((performance.now() - began) * 1000);
          else failed++;
        },
        () => {
          failed++;
        },
      )
      .finally(() => {
        outstanding--;
        inFlight.delete(request);
      });
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  const within = latencies.filter((us) => us <= objectiveMs * 1000).length;
  const latency = summarize(latencies);
  return {
    sent,
    failed,
    dropped,
    answeredPerSec: round(latencies.length / (ms / 1000)),
    goodputPerSec: round(within / (ms / 1000)),
    p50Ms: round(latency.p50Us / 1000, 2),
    p99Ms: round(latency.p99Us / 1000, 2),
  };
}

const repo = mkdtempSync(join(tmpdir(), "ferry-goodput-"));
try {
  const model = mlpModel();
  for (const policy of POLICIES) {
    mkdirSync(join(repo, policy.model, "1"), { recursive: true });
    writeFileSync(join(repo, policy.model, "1", "model.onnx"), model);
    // mlpConfig adds dynamic_batching with 500 µs when batching; the policy line replaces it.
    const config = mlpConfig(policy.model, false, 1).concat(policy.batching, "\n");
    writeFileSync(join(repo, policy.model, "config.pbtxt"), config);
  }
  const listeners = await loopbackListeners();
  await startProcess(
    [
      join(root, "src/main.ts"),
      `--model-repository=${repo}`,
      "--disable-auto-complete-config",
      ...listeners.flags,
    ],
    `${listeners.http}/v2/health/ready`,
  );
  const request = fp32Request("INPUT0", [1, MLP_WIDTH], randomValues(MLP_WIDTH), "binary");
  const sender = (model: string) => httpSender(`${listeners.http}/v2/models/${model}/infer`, request);
  const capacity = await runLoad({
    send: sender("mlp_d500"),
    concurrency: 64,
    warmupMs: 1000,
    measureMs: seconds * 1000,
  });
  console.error(`capacity (closed loop, 64 outstanding, fixed 500 µs): ${capacity.throughput} req/s`);
  const rows: Record<string, string | number>[] = [];
  for (const share of SHARES) {
    const rate = capacity.throughput * share;
    for (const policy of POLICIES) {
      const result = await openLoop(sender(policy.model), rate, seconds * 1000);
      console.error(
        `${policy.name} at ${Math.round(share * 100)}%: goodput ${result.goodputPerSec}/s, p99 ${result.p99Ms} ms`,
      );
      rows.push({
        "load %": Math.round(share * 100),
        "offered/s": round(rate),
        policy: policy.name,
        ...result,
      });
    }
  }
  console.log(
    `\ncapacity ${capacity.throughput} req/s (closed loop, 64 outstanding, fixed 500 µs); objective p99 ${objectiveMs} ms; ${seconds} s per window; ${new Date().toISOString()}`,
  );
  console.table(rows);
  mkdirSync(join(root, "bench/out"), { recursive: true });
  writeFileSync(
    join(root, "bench/out/goodput.json"),
    JSON.stringify({ capacity: capacity.throughput, objectiveMs, rows }, null, 2),
  );
  const colors = ["#7f8c8d", "#c0392b", "#2471a3", "#27ae60", "#8e44ad"];
  writeFileSync(
    join(root, "bench/goodput.svg"),
    lineChart(
      `goodput (answers within ${objectiveMs} ms) vs offered load`,
      "offered load, % of capacity",
      POLICIES.map((policy, index) => ({
        name: policy.name,
        unit: "answers/s",
        color: colors[index] as string,
        points: rows
          .filter((row) => row.policy === policy.name)
          .map((row) => [row["load %"] as number, row.goodputPerSec as number] as [number, number]),
      })),
      false,
    ),
  );
} finally {
  stopAll();
  rmSync(repo, { recursive: true, force: true });
}
