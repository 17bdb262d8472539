/**
 * `npm run bench:execution`: where onnxruntime sessions should run — on the
 * event loop, or in a worker per instance — measured in one run on the same
 * server process. The bench MLP (3×1024 FP32, ferry's thread defaults) is
 * served four times: worker vs event loop, one instance vs two, batching
 * off; each at c=1 and c=8 (binary tensors), runs taking turns. Then
 * liveness: `/v2/health/live` polled every 20 ms while a slow model (120
 * layers of 2048 sharing one weight matrix, one thread, batch 64 requests,
 * about a second an execution here) runs back to back, in each mode and
 * under `auto` (the default, which times it at load and keeps it in a worker).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeBinaryRequest } from "../tests/support/v2-binary.ts";
import { httpSender, type LoadResult, mergeResults, runLoad } from "./load.ts";
import { MLP_WIDTH, mlpModel } from "./mlp.ts";
import { freePort, startProcess, stopAll } from "./processes.ts";
import { round, summarize } from "./stats.ts";

const root = join(import.meta.dir, "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const SLOW_WIDTH = 2048;
const SLOW_LAYERS = 120;
const SLOW_BATCH = 64;

/** The MLPs get ferry's thread defaults; the slow model one thread, so its executions last ~1 s. */
function config(name: string, width: number, execution: string, instances: number): string {
  return `name: "${name}" backend: "onnxruntime" max_batch_size: 64
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ ${width} ] } ] output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ ${width} ] } ]
instance_group [ { kind: KIND_CPU count: ${instances} } ]
${name.startsWith("slow") ? 'parameters { key: "intra_op_thread_count" value { string_value: "1" } }' : ""}
parameters { key: "ferry.execution" value { string_value: "${execution}" } }`;
}

function request(width: number, rows: number) {
  const bytes = new Uint8Array(new Float32Array(width * rows).fill(0.5).buffer);
  const { body, headerLength } = encodeBinaryRequest(
    [{ name: "INPUT0", datatype: "FP32", shape: [rows, width], bytes }],
    { outputs: [{ name: "OUTPUT0", parameters: { binary_data: true } }] },
  );
  return { body, headers: { "inference-header-content-length": String(headerLength) } };
}

const repo = mkdtempSync(join(tmpdir(), "ferry-bench-execution-"));
const models: { name: string; execution: string; instances: number }[] = [];
try {
  const mlp = mlpModel();
  const slow = mlpModel(SLOW_WIDTH, SLOW_LAYERS, 42, true);
  const add = (name: string, width: number, bytes: Uint8Array, execution: string, instances: number) => {
    mkdirSync(join(repo, name, "1"), { recursive: true });
    writeFileSync(join(repo, name, "config.pbtxt"), config(name, width, execution, instances));
    writeFileSync(join(repo, name, "1", "model.onnx"), bytes);
  };
  for (const execution of ["worker", "event_loop"]) {
    for (const instances of [1, 2]) {
      const name = `mlp_${execution}_${instances}`;
      add(name, MLP_WIDTH, mlp, execution, instances);
      models.push({ name, execution, instances });
    }
    add(`slow_${execution}`, SLOW_WIDTH, slow, execution, 1);
  }
  // The default: placed by timing its largest batch at load (a worker, for this one).
  add("slow_auto", SLOW_WIDTH, slow, "auto", 1);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  await startProcess(
    [
      join(root, "src/main.ts"),
      `--model-repository=${repo}`,
      "--disable-auto-complete-config",
      "--http-address=127.0.0.1",
      `--http-port=${port}`,
      `--grpc-port=${await freePort()}`,
      "--allow-metrics=false",
      "--readiness-check-interval-secs=0",
    ],
    `${url}/v2/health/ready`,
  );

  const runs = [1, 8].flatMap((concurrency) =>
    models.map((model) => ({
      ...model,
      concurrency,
      send: httpSender(`${url}/v2/models/${model.name}/infer`, request(MLP_WIDTH, 1)),
    })),
  );
  const windows = runs.map(() => [] as LoadResult[]);
  for (let round = 0; round < rounds; round++) {
    for (const [index, run] of runs.entries()) {
      windows[index]?.push(
        await runLoad({
          send: run.send,
          concurrency: run.concurrency,
          warmupMs: 200,
          measureMs: (seconds * 1000) / rounds,
        }),
      );
    }
  }
  console.log("| model | execution | instances | c | req/s | p50 µs | p99 µs |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
  runs.forEach((run, index) => {
    const result = mergeResults(windows[index] as LoadResult[]);
    console.log(
      `| mlp 3×1024 | ${run.execution} | ${run.instances} | ${run.concurrency} | ${result.throughput} | ${result.latency.p50Us} | ${result.latency.p99Us} |`,
    );
  });

  console.log(
    "\n| slow model (120×2048 shared, batch 64) | execution ms p50 | /v2/health/live p50 ms | p99 ms | max ms |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const execution of ["worker", "event_loop", "auto"]) {
    const slowUrl = `${url}/v2/models/slow_${execution}/infer`;
    const slowRequest = request(SLOW_WIDTH, SLOW_BATCH);
    let busy = true;
    const executions: number[] = [];
    const load = (async () => {
      while (busy) {
        const started = performance.now();
        await (await fetch(slowUrl, { method: "POST", ...slowRequest })).arrayBuffer();
        executions.push((performance.now() - started) * 1000);
      }
    })();
    await Bun.sleep(1500);
    const probes: number[] = [];
    const until = performance.now() + 6000;
    while (performance.now() < until) {
      const started = performance.now();
      await (await fetch(`${url}/v2/health/live`)).arrayBuffer();
      probes.push((performance.now() - started) * 1000);
      await Bun.sleep(20);
    }
    busy = false;
    await load;
    const live = summarize(probes);
    const ms = (us: number) => round(us / 1000, 1);
    console.log(
      `| ${execution} | ${ms(summarize(executions).p50Us)} | ${ms(live.p50Us)} | ${ms(live.p99Us)} | ${ms(Math.max(...probes))} |`,
    );
  }
} finally {
  stopAll();
  rmSync(repo, { recursive: true, force: true });
}
