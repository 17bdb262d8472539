/**
 * `npm run bench:goodput`: batching policies under open-loop load, as
 * perf_analyzer's --request-rate-range offers it. Requests arrive as a
 * Poisson process at a fixed rate, independent of the answers, so queueing
 * shows as it does in production. One ferry serves the bench MLP several
 * times — batching off, dynamic batching with a fixed
 * max_queue_delay_microseconds of 0, 500, 2000 and 8000, and the adaptive
 * batcher with the objective as `ferry.latency_objective_ms` (late requests
 * served, and rejected early) — and each is offered 25/50/75/90/110 % of the
 * capacity measured first: the higher closed-loop throughput (64
 * outstanding) of the 500 µs and 8000 µs policies, so that 110 % is more
 * than the server can answer however it batches.
 * Goodput = answers within the latency objective (BENCH_OBJECTIVE_MS,
 * default 50) per second; the target ratios compare the share of sent
 * requests answered within it, as each policy sees its own Poisson draw. Prints a table and the target ratios,
 * writes bench/out/goodput.json and the plot bench/goodput.svg.
 * Knobs: BENCH_SECONDS per window (default 4), BENCH_OBJECTIVE_MS,
 * BENCH_SHARES (loads as shares of capacity, default 0.25,0.5,0.75,0.9,1.1).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpSender, type RequestShape, runLoad } from "./load.ts";
import { MLP_WIDTH, mlpConfig, mlpModel } from "./mlp.ts";
import { loopbackListeners, startProcess, stopAll } from "./processes.ts";
import { round, summarize } from "./stats.ts";
import { lineChart } from "./svg-plot.ts";
import { fp32Request, randomValues } from "./tensors.ts";

const root = join(import.meta.dir, "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const objectiveMs = Number(process.env.BENCH_OBJECTIVE_MS ?? 50);
const SHARES = (process.env.BENCH_SHARES ?? "0.25,0.5,0.75,0.9,1.1").split(",").map(Number);
/** The load step: each level this long, the adaptive batcher sampled this often. */
const STEP_MS = 2000;
const SAMPLE_MS = 100;
/** Requests outstanding at most: beyond it an arrival counts as dropped (the client's limit, not the server's). */
const MAX_OUTSTANDING = 4096;

const objectiveParameters = (late: "serve" | "reject") =>
  `dynamic_batching { }
parameters { key: "ferry.latency_objective_ms" value { string_value: "${objectiveMs}" } }
parameters { key: "ferry.late_requests" value { string_value: "${late}" } }`;

const POLICIES: { name: string; model: string; batching: string }[] = [
  { name: "batching off", model: "mlp_off", batching: "" },
  ...[0, 500, 2000, 8000].map((us) => ({
    name: `fixed ${us} µs`,
    model: `mlp_d${us}`,
    batching: `dynamic_batching { max_queue_delay_microseconds: ${us} }`,
  })),
  { name: "adaptive", model: "mlp_adaptive", batching: objectiveParameters("serve") },
  { name: "adaptive+reject", model: "mlp_reject", batching: objectiveParameters("reject") },
];
const FIXED = POLICIES.filter((policy) => policy.name.startsWith("fixed")).map((policy) => policy.name);

type Outcome = "answered" | "rejected" | "failed";
type Send = () => Promise<Outcome>;

/** One request; a 503 naming the latency objective is an early rejection, anything else not 200 a failure. */
function objectiveSender(url: string, request: RequestShape): Send {
  return async () => {
    const response = await fetch(url, { method: "POST", body: request.body, headers: request.headers });
    if (response.ok) {
      await response.arrayBuffer();
      return "answered";
    }
    const text = await response.text();
    return response.status === 503 && text.includes("latency objective") ? "rejected" : "failed";
  };
}

/**
 * Open loop: arrivals at exponential intervals (mean 1/rate, the rate
 * possibly a function of the time elapsed), each answered or not, never
 * waited for.
 */
async function openLoop(send: Send, rate: number | ((elapsedMs: number) => number), ms: number) {
  const rateAt = typeof rate === "number" ? () => rate : rate;
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  let rejected = 0;
  let dropped = 0;
  let outstanding = 0;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  let next = start;
  while (next - start < ms) {
    next += (-Math.log(1 - Math.random()) / rateAt(next - start)) * 1000;
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
        (outcome) => {
          if (outcome === "answered") latencies.push((performance.now() - began) * 1000);
          else if (outcome === "rejected") rejected++;
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
    rejected,
    dropped,
    answeredPerSec: round(latencies.length / (ms / 1000)),
    goodputPerSec: round(within / (ms / 1000)),
    "within %": round((within / Math.max(1, sent)) * 100, 1),
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
  const sender = (model: string) => objectiveSender(`${listeners.http}/v2/models/${model}/infer`, request);
  const closedLoop = async (model: string) =>
    (
      await runLoad({
        send: httpSender(`${listeners.http}/v2/models/${model}/infer`, request),
        concurrency: 64,
        warmupMs: 1000,
        measureMs: seconds * 1000,
      })
    ).throughput;
  const capacity = { throughput: Math.max(await closedLoop("mlp_d500"), await closedLoop("mlp_d8000")) };
  console.error(
    `capacity (closed loop, 64 outstanding, best of fixed 500 / 8000 µs): ${capacity.throughput} req/s`,
  );
  const rows: Record<string, string | number>[] = [];
  for (const share of SHARES) {
    const rate = capacity.throughput * share;
    for (const policy of POLICIES) {
      const before = await serverWithin(listeners.metrics, policy.model);
      const result = await openLoop(sender(policy.model), rate, seconds * 1000);
      const after = await serverWithin(listeners.metrics, policy.model);
      const serverShare = (after.within - before.within) / Math.max(1, after.count - before.count);
      console.error(
        `${policy.name} at ${Math.round(share * 100)}%: goodput ${result.goodputPerSec}/s, p99 ${result.p99Ms} ms`,
      );
      rows.push({
        "load %": Math.round(share * 100),
        "offered/s": round(rate),
        policy: policy.name,
        ...result,
        "server within %": round(serverShare * 100, 1),
      });
    }
  }
  console.log(
    `\ncapacity ${capacity.throughput} req/s (closed loop, 64 outstanding, best of fixed 500 / 8000 µs); objective p99 ${objectiveMs} ms; ${seconds} s per window; ${new Date().toISOString()}`,
  );
  console.table(rows);
  console.table(targets(rows));
  const step = await loadStep(sender("mlp_adaptive"), capacity.throughput, listeners.http);
  console.log(
    `\nload step 10 % → 90 % → 10 % of capacity (${STEP_MS} ms each), the adaptive batcher's view every ${SAMPLE_MS} ms:`,
  );
  console.table(step.samples);
  console.log(step.reaction);
  mkdirSync(join(root, "bench/out"), { recursive: true });
  writeFileSync(
    join(root, "bench/out/goodput.json"),
    JSON.stringify({ capacity: capacity.throughput, objectiveMs, rows, step }, null, 2),
  );
  const colors = ["#7f8c8d", "#c0392b", "#2471a3", "#27ae60", "#8e44ad", "#d35400", "#f1c40f"];
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

/**
 * 10 % → 90 % → 10 % of capacity under the adaptive batcher, sampling its
 * verbose readiness view: how soon the arrival rate and the batch size it
 * aims for follow each step.
 */
interface VerboseReady {
  models: {
    name: string;
    versions: { batching?: { arrivals_per_second: number; target_batch_size: number; wait_us: number } }[];
  }[];
}

async function loadStep(send: Send, capacity: number, http: string) {
  const samples: { "t ms": number; "arrivals/s": number; "target batch": number; "wait µs": number }[] = [];
  const started = performance.now();
  const sampler = setInterval(async () => {
    const report = (await (await fetch(`${http}/v2/health/ready?verbose=true`)).json()) as VerboseReady;
    const batching = report.models.find((model: { name: string }) => model.name === "mlp_adaptive")
      ?.versions[0]?.batching;
    if (!batching) return;
    samples.push({
      "t ms": Math.round(performance.now() - started),
      "arrivals/s": batching.arrivals_per_second,
      "target batch": batching.target_batch_size,
      "wait µs": batching.wait_us,
    });
  }, SAMPLE_MS);
  const shareAt = (elapsed: number) => (elapsed < STEP_MS || elapsed >= 2 * STEP_MS ? 0.1 : 0.9);
  await openLoop(send, (elapsed) => capacity * shareAt(elapsed), 3 * STEP_MS);
  clearInterval(sampler);
  samples.sort((a, b) => a["t ms"] - b["t ms"]);
  // Reaction: first sample after each step whose arrival rate is past the midpoint between the two levels.
  const midpoint = capacity * 0.5;
  const up = samples.find((sample) => sample["t ms"] > STEP_MS && sample["arrivals/s"] > midpoint);
  const down = samples.find((sample) => sample["t ms"] > 2 * STEP_MS && sample["arrivals/s"] < midpoint);
  const reaction = {
    "step up seen after ms": up ? up["t ms"] - STEP_MS : "not seen",
    "step down seen after ms": down ? down["t ms"] - 2 * STEP_MS : "not seen",
  };
  return { samples, reaction };
}

/**
 * Answers the server gave within the objective, from arrival to the model's
 * answer (its ferry_inference_request_duration_us histogram, bucket
 * le=objective): the same requests without the client's own delays, which
 * on a shared 2-core machine are part of what the client measures.
 */
async function serverWithin(metricsUrl: string, model: string): Promise<{ within: number; count: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const series = (suffix: string) => {
    const line = text
      .split("\n")
      .find(
        (entry) =>
          entry.startsWith(`ferry_inference_request_duration_us_${suffix}`) &&
          entry.includes(`model="${model}"`),
      );
    return Number(line?.split(" ").pop() ?? 0);
  };
  return { within: series(`bucket{le="${objectiveMs * 1000}"`), count: series("count") };
}

/** The targets, per load: adaptive goodput against the best and worst fixed delay, p99s, failures. */
function targets(rows: Record<string, string | number>[]) {
  return SHARES.map((share) => {
    const load = Math.round(share * 100);
    const at = (policy: string) => rows.find((row) => row["load %"] === load && row.policy === policy) ?? {};
    // Each policy saw its own Poisson draw of arrivals: compare the share answered within the objective.
    const goodput = (policy: string) => Number(at(policy)["within %"] ?? 0);
    const onServer = (policy: string) => Number(at(policy)["server within %"] ?? 0);
    const fixed = FIXED.map(goodput);
    const fixedOnServer = FIXED.map(onServer);
    const adaptive = at("adaptive");
    const reject = at("adaptive+reject");
    return {
      "load %": load,
      "adaptive / best fixed": round(goodput("adaptive") / Math.max(...fixed), 2),
      "adaptive / worst fixed": round(goodput("adaptive") / Math.max(1e-9, Math.min(...fixed)), 2),
      "adaptive p99 / objective": round(Number(adaptive.p99Ms) / objectiveMs, 2),
      "reject / best fixed": round(goodput("adaptive+reject") / Math.max(...fixed), 2),
      "reject p99 / objective": round(Number(reject.p99Ms) / objectiveMs, 2),
      "reject failures": Number(reject.failed ?? 0),
      "server: adaptive / best fixed": round(onServer("adaptive") / Math.max(...fixedOnServer), 2),
      "server: reject / best fixed": round(onServer("adaptive+reject") / Math.max(...fixedOnServer), 2),
      "server: reject / worst fixed": round(
        onServer("adaptive+reject") / Math.max(1e-9, Math.min(...fixedOnServer)),
        2,
      ),
    };
  });
}
