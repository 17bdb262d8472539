/**
 * `npm run bench:grpc`: the bundled `simple` model over gRPC (HTTP/2: a
 * lean node:http2 client, and connect-node's client for reference), v2 HTTP
 * (binary and JSON tensors, fetch) and in-process
 * onnxruntime-node, in one run, runs taking turns in short windows. Prints
 * p50/p99 latency and throughput with ratios. All load goes to 127.0.0.1.
 */
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { connectGrpcSender, grpcRequestFromMetadata, grpcSender } from "./grpc-sender.ts";
import { httpSender, type LoadResult, mergeResults, runLoad, type Send } from "./load.ts";
import { requestFromMetadata } from "./model-request.ts";
import { freePort, startProcess, stopAll } from "./processes.ts";
import { round, summarize } from "./stats.ts";

const root = join(import.meta.dir, "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 4);

try {
  const inProcess = await measureInProcess();
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const http = `http://127.0.0.1:${httpPort}`;
  await startProcess(
    [
      join(root, "src/main.ts"),
      `--model-repository=${join(root, "models")}`,
      "--model-control-mode=explicit",
      "--load-model=simple",
      "--http-address=127.0.0.1",
      `--http-port=${httpPort}`,
      `--grpc-port=${grpcPort}`,
      "--allow-metrics=false",
    ],
    `${http}/v2/health/ready`,
  );
  const inputs = [
    { name: "INPUT0", datatype: "INT32", shape: [-1, 16] },
    { name: "INPUT1", datatype: "INT32", shape: [-1, 16] },
  ];
  const shape = { batchSize: 1, batching: true, shapes: new Map<string, number[]>() };
  const url = `${http}/v2/models/simple/infer`;
  const runs: { name: string; concurrency: number; send: Send }[] = [];
  const grpcUrl = `http://127.0.0.1:${grpcPort}`;
  const grpcRequest = grpcRequestFromMetadata("simple", inputs, shape);
  for (const concurrency of [1, 16]) {
    runs.push({
      name: "HTTP binary",
      concurrency,
      send: httpSender(url, requestFromMetadata(inputs, { ...shape, tensors: "binary" })),
    });
    runs.push({
      name: "HTTP JSON",
      concurrency,
      send: httpSender(url, requestFromMetadata(inputs, { ...shape, tensors: "json" })),
    });
    runs.push({ name: "gRPC", concurrency, send: grpcSender(grpcUrl, grpcRequest) });
    runs.push({ name: "gRPC, connect client", concurrency, send: connectGrpcSender(grpcUrl, grpcRequest) });
  }
  const windows = runs.map(() => [] as LoadResult[]);
  for (let round = 0; round < rounds; round++) {
    for (const [index, run] of runs.entries()) {
      const result = await runLoad({
        send: run.send,
        concurrency: run.concurrency,
        warmupMs: 300,
        measureMs: (seconds * 1000) / rounds,
      });
      windows[index]?.push(result);
    }
  }
  const results = runs.map((run, index) => ({ ...run, result: mergeResults(windows[index] ?? []) }));
  const find = (name: string, concurrency: number) =>
    results.find((row) => row.name === name && row.concurrency === concurrency)?.result;
  console.log(
    `\nsimple (INT32 add/sub, [1,16]), ${rounds} rounds of ${seconds / rounds}s per run, ${new Date().toISOString()}`,
  );
  console.log(`in-process onnxruntime-node p50 ${inProcess.p50Us} µs, p99 ${inProcess.p99Us} µs\n`);
  console.table(
    results.map(({ name, concurrency, result }) => ({
      run: `${name}, c=${concurrency}`,
      "infer/s": result.throughput,
      "p50 µs": result.latency.p50Us,
      "p99 µs": result.latency.p99Us,
      errors: result.errors,
      "p50 / in-process": round(result.latency.p50Us / inProcess.p50Us, 1),
    })),
  );
  const ratio = (a?: LoadResult, b?: LoadResult, key: "p50Us" | "throughput" = "p50Us") =>
    a && b
      ? round(key === "throughput" ? a.throughput / b.throughput : a.latency.p50Us / b.latency.p50Us, 2)
      : undefined;
  console.table([
    { ratio: "gRPC / HTTP binary, p50, c=1", value: ratio(find("gRPC", 1), find("HTTP binary", 1)) },
    {
      ratio: "gRPC / HTTP binary, throughput, c=16",
      value: ratio(find("gRPC", 16), find("HTTP binary", 16), "throughput"),
    },
    {
      ratio: "HTTP JSON / HTTP binary, p50, c=1",
      value: ratio(find("HTTP JSON", 1), find("HTTP binary", 1)),
    },
  ]);
} finally {
  stopAll();
}

async function measureInProcess() {
  const session = await ort.InferenceSession.create(join(root, "models/simple/1/model.onnx"));
  const feeds = {
    INPUT0: new ort.Tensor("int32", new Int32Array(16), [1, 16]),
    INPUT1: new ort.Tensor("int32", new Int32Array(16), [1, 16]),
  };
  const latencies: number[] = [];
  for (let i = 0; i < 2100; i++) {
    const started = performance.now();
    await session.run(feeds);
    if (i >= 100) latencies.push((performance.now() - started) * 1000);
  }
  await session.release();
  return summarize(latencies);
}
