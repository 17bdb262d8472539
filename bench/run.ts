/**
 * `npm run bench`: ferry against its ceiling, its floors and the server a
 * user would write, in one run on this machine, on an MLP of three
 * 1024-wide layers. The runs being compared take turns in short windows
 * (this machine drifts by tens of percent within a minute), and the
 * ratios come from the same run. Prints tables and writes
 * bench/out/results.json. All load goes to 127.0.0.1.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { defaultIntraOpThreads } from "../src/backends/onnxruntime/session-options.ts";
import { readConfigText } from "../src/config/read-config.ts";
import { type LoadResult, mergeResults, type RequestShape, runLoad } from "./load.ts";
import { MLP_WIDTH, mlpConfig, mlpModel } from "./mlp.ts";
import { processCpuUs } from "./process-cpu.ts";
import { freePort, startProcess, stopAll } from "./processes.ts";
import { breakdown, fetchStats, type ServerBreakdown } from "./server-stats.ts";
import { round, summarize } from "./stats.ts";
import { fp32Request, randomValues } from "./tensors.ts";

const root = join(import.meta.dir, "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
/**
 * intra_op_thread_count of ferry's bench models; 0 (default): none, so ferry
 * picks from the host. The bare server and the in-process loop get the
 * same count and no spinning, as ferry's sessions; the naive server keeps
 * onnxruntime's defaults.
 */
const threads = Number(process.env.BENCH_THREADS ?? 0);
const sessionThreads =
  threads > 0
    ? threads
    : defaultIntraOpThreads(readConfigText(mlpConfig("mlp", false, 1), "mlp"), availableParallelism());

const repo = mkdtempSync(join(tmpdir(), "ferry-bench-"));
const modelBytes = mlpModel();
for (const [name, batching] of [
  ["mlp", false],
  ["mlp_batched", true],
] as const) {
  mkdirSync(join(repo, name, "1"), { recursive: true });
  writeFileSync(join(repo, name, "1", "model.onnx"), modelBytes);
  writeFileSync(join(repo, name, "config.pbtxt"), mlpConfig(name, batching, 1, threads));
}
const modelFile = join(repo, "mlp", "1", "model.onnx");

interface Run {
  name: string;
  /** The server process, for its CPU time per request. */
  pid: number;
  url: string;
  request: RequestShape;
  concurrency: number;
  /** ferry model whose statistics give the server-side breakdown. */
  model?: string;
}

try {
  const inProcess = await measureInProcess();
  const [ferryPort, naivePort, emptyPort, barePort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const ferry = `http://127.0.0.1:${ferryPort}`;
  const ferryProcess = await startProcess(
    [
      join(root, "src/main.ts"),
      `--model-repository=${repo}`,
      "--http-address=127.0.0.1",
      `--http-port=${ferryPort}`,
      "--allow-metrics=false",
      "--allow-grpc=false",
      // Batching off means off: otherwise auto-complete adds dynamic_batching {} as Triton does.
      "--disable-auto-complete-config",
    ],
    `${ferry}/v2/health/ready`,
  );
  const naiveProcess = await startProcess(
    [join(root, "bench/naive-server.ts"), modelFile, String(naivePort)],
    `http://127.0.0.1:${naivePort}/`,
    true,
  );
  const emptyProcess = await startProcess(
    [join(root, "bench/empty-server.ts"), String(emptyPort)],
    `http://127.0.0.1:${emptyPort}/`,
    true,
  );
  const bareProcess = await startProcess(
    [join(root, "bench/bare-server.ts"), modelFile, String(barePort), String(sessionThreads)],
    `http://127.0.0.1:${barePort}/`,
    true,
  );

  const one = randomValues(MLP_WIDTH);
  const binary = fp32Request("INPUT0", [1, MLP_WIDTH], one, "binary");
  const json = fp32Request("INPUT0", [1, MLP_WIDTH], one, "json");
  const raw = { body: new Uint8Array(one.buffer), headers: { "accept-encoding": "identity" } };
  const infer = (model: string) => `${ferry}/v2/models/${model}/infer`;

  const [ferryPid, naivePid, emptyPid, barePid] = [
    ferryProcess.pid,
    naiveProcess.pid,
    emptyProcess.pid,
    bareProcess.pid,
  ];
  const latency = await interleave([
    {
      name: "empty Bun.serve",
      pid: emptyPid,
      url: `http://127.0.0.1:${emptyPort}/`,
      request: binary,
      concurrency: 1,
    },
    {
      name: "bare Bun.serve + ORT",
      pid: barePid,
      url: `http://127.0.0.1:${barePort}/`,
      request: raw,
      concurrency: 1,
    },
    { name: "ferry binary", pid: ferryPid, url: infer("mlp"), request: binary, concurrency: 1, model: "mlp" },
    { name: "ferry JSON", pid: ferryPid, url: infer("mlp"), request: json, concurrency: 1, model: "mlp" },
    {
      name: "naive JSON server",
      pid: naivePid,
      url: `http://127.0.0.1:${naivePort}/`,
      request: json,
      concurrency: 1,
    },
  ]);
  const throughput = await interleave([
    {
      name: "ferry batched binary",
      pid: ferryPid,
      url: infer("mlp_batched"),
      request: binary,
      concurrency: 64,
      model: "mlp_batched",
    },
    {
      name: "ferry unbatched binary",
      pid: ferryPid,
      url: infer("mlp"),
      request: binary,
      concurrency: 64,
      model: "mlp",
    },
    {
      name: "ferry unbatched JSON",
      pid: ferryPid,
      url: infer("mlp"),
      request: json,
      concurrency: 64,
      model: "mlp",
    },
    {
      name: "naive JSON server",
      pid: naivePid,
      url: `http://127.0.0.1:${naivePort}/`,
      request: json,
      concurrency: 64,
    },
  ]);

  const p50 = (rows: typeof latency, name: string) =>
    rows.find((row) => row.name === name)?.result.latency.p50Us ?? 0;
  const rate = (name: string) => throughput.find((row) => row.name === name)?.result.throughput ?? 0;
  const floor = inProcess.batch1P50Us + p50(latency, "empty Bun.serve");
  const overhead = (name: string) => round(p50(latency, name) - floor);
  const own = round(p50(latency, "ferry binary") - p50(latency, "bare Bun.serve + ORT"));
  const cpuOf = (name: string) => latency.find((row) => row.name === name)?.cpuPerRequestUs ?? 0;
  const ownCpu = round(cpuOf("ferry binary") - cpuOf("bare Bun.serve + ORT"));
  const most = (target: string, value: number, goal: number, digits = 0) => ({
    target,
    value: round(value, digits),
    goal: `<= ${goal}`,
    met: value <= goal,
  });
  const targets = [
    most("ferry p50 - bare p50, binary, c=1 (µs)", own, 60),
    most("ferry CPU - bare CPU per request, binary, c=1 (µs)", ownCpu, 60),
    {
      target: "  server overhead above in-process + empty round trip, ferry (µs)",
      value: overhead("ferry binary"),
      goal: "",
      met: "",
    },
    {
      target: "  the same for the bare server (µs)",
      value: overhead("bare Bun.serve + ORT"),
      goal: "",
      met: "",
    },
    most(
      "ferry JSON p50 / naive JSON p50, c=1",
      p50(latency, "ferry JSON") / p50(latency, "naive JSON server"),
      0.8,
      2,
    ),
    ratio(
      "ferry unbatched JSON / naive, c=64",
      rate("ferry unbatched JSON") / rate("naive JSON server"),
      1.2,
    ),
    ratio("ferry batched binary / naive, c=64", rate("ferry batched binary") / rate("naive JSON server"), 3),
    ratio(
      "batched / unbatched, binary, c=64",
      rate("ferry batched binary") / rate("ferry unbatched binary"),
      2.5,
    ),
  ];

  console.log(
    `\nMLP 3x${MLP_WIDTH} FP32, intra_op_thread_count ${threads || `none (ferry picks ${sessionThreads})`}, ${rounds} rounds of ${seconds / rounds}s per run, ${new Date().toISOString()}`,
  );
  console.log(
    `in-process onnxruntime-node: batch 1 p50 ${inProcess.batch1P50Us} µs; batch 64 p50 ${inProcess.batch64P50Us} µs (${inProcess.perSample64Us} µs/sample)\n`,
  );
  console.table([...latency, ...throughput].map(tableRow));
  console.table(targets);
  mkdirSync(join(root, "bench/out"), { recursive: true });
  const strip = (rows: typeof latency) =>
    rows.map(({ result: { latenciesUs: _, ...result }, ...rest }) => ({ ...rest, result }));
  writeFileSync(
    join(root, "bench/out/results.json"),
    JSON.stringify({ inProcess, latency: strip(latency), throughput: strip(throughput), targets }, null, 2),
  );
} finally {
  stopAll();
  rmSync(repo, { recursive: true, force: true });
}

function ratio(target: string, value: number, goal: number) {
  return { target, value: round(value, 2), goal: `>= ${goal}`, met: value >= goal };
}

/** Runs each load in turn, `rounds` times, and merges each one's windows. */
async function interleave(runs: Run[]): Promise<RunResult[]> {
  const windows = runs.map(() => [] as LoadResult[]);
  const servers = runs.map(() => [] as ServerBreakdown[]);
  const cpu = runs.map(() => ({ us: 0, requests: 0 }));
  for (let round = 0; round < rounds; round++) {
    for (const [index, run] of runs.entries()) {
      let before: Awaited<ReturnType<typeof fetchStats>> | undefined;
      let cpuBefore = 0;
      const url = new URL(run.url);
      const base = `${url.protocol}//${url.host}`;
      const result = await runLoad({
        url: run.url,
        concurrency: run.concurrency,
        warmupMs: 300,
        measureMs: (seconds * 1000) / rounds,
        request: run.request,
        onWindow: {
          start: async () => {
            if (run.model) before = await fetchStats(base, run.model);
            cpuBefore = processCpuUs(run.pid) ?? 0;
          },
          end: async () => {
            const spent = (processCpuUs(run.pid) ?? 0) - cpuBefore;
            if (run.model && before)
              servers[index]?.push(breakdown(before, await fetchStats(base, run.model)));
            (cpu[index] as { us: number }).us += spent;
          },
        },
      });
      (cpu[index] as { requests: number }).requests += result.latenciesUs.length;
      windows[index]?.push(result);
    }
  }
  return runs.map((run, index) => {
    const result = mergeResults(windows[index] ?? []);
    console.error(
      `${run.name}, c=${run.concurrency}: ${result.throughput} infer/s, p50 ${result.latency.p50Us} µs`,
    );
    const server = averageBreakdown(servers[index] ?? []);
    const spent = cpu[index] as { us: number; requests: number };
    const cpuPerRequestUs = spent.requests > 0 ? round(spent.us / spent.requests) : 0;
    return server
      ? { name: run.name, result, server, cpuPerRequestUs }
      : { name: run.name, result, cpuPerRequestUs };
  });
}

interface RunResult {
  name: string;
  result: LoadResult;
  server?: ServerBreakdown;
  /** Server process CPU (all threads) per completed request, µs. */
  cpuPerRequestUs: number;
}

function averageBreakdown(parts: ServerBreakdown[]): ServerBreakdown | undefined {
  const total = parts.reduce((sum, part) => sum + part.requests, 0);
  if (total === 0) return undefined;
  const weighted = (key: keyof ServerBreakdown) =>
    round(parts.reduce((sum, part) => sum + part[key] * part.requests, 0) / total);
  return {
    requests: total,
    averageBatch: weighted("averageBatch"),
    queueUs: weighted("queueUs"),
    computeInputUs: weighted("computeInputUs"),
    computeInferUs: weighted("computeInferUs"),
    computeOutputUs: weighted("computeOutputUs"),
    requestUs: weighted("requestUs"),
  };
}

function tableRow({ name, result, server, cpuPerRequestUs }: RunResult) {
  return {
    run: `${name}, c=${result.concurrency}`,
    "infer/s": result.throughput,
    "p50 µs": result.latency.p50Us,
    "p90 µs": result.latency.p90Us,
    "p95 µs": result.latency.p95Us,
    "p99 µs": result.latency.p99Us,
    errors: result.errors,
    "server cpu µs/req": cpuPerRequestUs,
    "avg batch": server?.averageBatch ?? "",
    "queue µs": server?.queueUs ?? "",
    "infer µs": server?.computeInferUs ?? "",
    "in+out µs": server ? round(server.computeInputUs + server.computeOutputUs) : "",
    "server µs": server?.requestUs ?? "",
  };
}

/** The ceiling: the same model in this process, no server at all. */
async function measureInProcess() {
  const session = await ort.InferenceSession.create(modelFile, {
    intraOpNumThreads: sessionThreads,
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  });
  const time = async (batch: number, runs: number) => {
    const input = new ort.Tensor("float32", randomValues(batch * MLP_WIDTH), [batch, MLP_WIDTH]);
    const latencies: number[] = [];
    for (let i = 0; i < runs + 20; i++) {
      const started = performance.now();
      await session.run({ INPUT0: input });
      if (i >= 20) latencies.push((performance.now() - started) * 1000);
    }
    return summarize(latencies).p50Us;
  };
  const batch1P50Us = await time(1, 500);
  const batch64P50Us = await time(64, 100);
  await session.release();
  return { batch1P50Us, batch64P50Us, perSample64Us: round(batch64P50Us / 64) };
}
