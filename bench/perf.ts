/**
 * A perf_analyzer-style load generator for any model on a running server:
 *   bun bench/perf.ts --model simple [--url http://127.0.0.1:8000]
 *     [--protocol http|grpc] [--grpc-url http://127.0.0.1:8001]
 *     [--concurrency-range 1:8:2] [--batch-size 1]
 *     [--measurement-interval 5000] [--tensors binary|json]
 *     [--shape INPUT0:3,224,224] [--json]
 * For each concurrency: throughput, p50/p90/p95/p99 latency, and the
 * server's queue and compute breakdown from the statistics extension.
 * Only 127.0.0.1/localhost targets are accepted.
 */
import { type FlagSpec, formatHelp, parseFlags } from "../src/cli/flags.ts";
import { grpcRequestFromMetadata, grpcSender } from "./grpc-sender.ts";
import { httpSender, runLoad } from "./load.ts";
import { requestFromMetadata } from "./model-request.ts";
import { breakdown, fetchStats } from "./server-stats.ts";

const SPECS: FlagSpec[] = [
  { name: "model", kind: "string", help: "model name" },
  { name: "url", kind: "string", help: "server, default http://127.0.0.1:8000" },
  { name: "protocol", kind: "string", choices: ["http", "grpc"], help: "protocol" },
  { name: "grpc-url", kind: "string", help: "gRPC server, default http://127.0.0.1:8001" },
  { name: "concurrency-range", kind: "string", help: "start:end:step" },
  { name: "batch-size", kind: "integer", help: "batch size per request" },
  { name: "measurement-interval", kind: "integer", help: "window per concurrency, ms" },
  { name: "tensors", kind: "string", choices: ["binary", "json"], help: "tensor encoding" },
  { name: "shape", kind: "list", help: "name:d1,d2 for variable dims" },
  { name: "json", kind: "boolean", help: "print JSON instead of a table" },
  { name: "help", kind: "boolean", help: "print this help" },
];
const USAGE = "Usage: npm run perf -- --model <name> [flags]   (a running server on 127.0.0.1)";
let flags: ReturnType<typeof parseFlags>;
try {
  flags = parseFlags(process.argv.slice(2), SPECS);
} catch (error) {
  process.stderr.write(`perf: ${(error as Error).message}\n${formatHelp(USAGE, SPECS)}`);
  process.exit(2);
}
if (flags.get("help")) {
  process.stdout.write(formatHelp(USAGE, SPECS));
  process.exit(0);
}
const model = flags.get("model") as string | undefined;
if (!model) {
  process.stderr.write(`perf: --model is required\n${formatHelp(USAGE, SPECS)}`);
  process.exit(2);
}
const url = (flags.get("url") as string | undefined) ?? "http://127.0.0.1:8000";
if (!["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname)) {
  throw new Error(`perf only loads local servers; ${url} is not 127.0.0.1 or localhost`);
}
const protocol = (flags.get("protocol") as string | undefined) ?? "http";
const [start, end, step] = ((flags.get("concurrency-range") as string | undefined) ?? "1:1:1")
  .split(":")
  .map(Number);
const batchSize = (flags.get("batch-size") as number | undefined) ?? 1;
const intervalMs = (flags.get("measurement-interval") as number | undefined) ?? 5000;
const shapes = new Map(
  ((flags.get("shape") as string[] | undefined) ?? []).map((spec) => {
    const [name, dims] = spec.split(":");
    return [name as string, (dims ?? "").split(",").map(Number)];
  }),
);

const metadata = (await (await fetch(`${url}/v2/models/${model}`)).json()) as {
  inputs: { name: string; datatype: string; shape: number[] }[];
};
const config = (await (await fetch(`${url}/v2/models/${model}/config`)).json()) as { max_batch_size: number };
const batching = config.max_batch_size > 0;
const grpcUrl = (flags.get("grpc-url") as string | undefined) ?? "http://127.0.0.1:8001";
if (!["127.0.0.1", "localhost", "[::1]"].includes(new URL(grpcUrl).hostname))
  throw new Error(`perf only loads local servers, not ${grpcUrl}`);
const send =
  protocol === "grpc"
    ? grpcSender(grpcUrl, grpcRequestFromMetadata(model, metadata.inputs, { batchSize, batching, shapes }))
    : httpSender(
        `${url}/v2/models/${model}/infer`,
        requestFromMetadata(metadata.inputs, {
          batchSize,
          batching,
          shapes,
          tensors: (flags.get("tensors") as "binary" | "json" | undefined) ?? "binary",
        }),
      );

const rows = [];
for (
  let concurrency = start ?? 1;
  concurrency <= (end ?? start ?? 1);
  concurrency += Math.max(1, step ?? 1)
) {
  let before: Awaited<ReturnType<typeof fetchStats>> | undefined;
  let server: ReturnType<typeof breakdown> | undefined;
  const result = await runLoad({
    send,
    concurrency,
    warmupMs: Math.min(1000, intervalMs / 2),
    measureMs: intervalMs,
    onWindow: {
      start: async () => {
        before = await fetchStats(url, model);
      },
      end: async () => {
        if (before) server = breakdown(before, await fetchStats(url, model));
      },
    },
  });
  rows.push({
    concurrency,
    "infer/s": result.throughput * batchSize,
    "p50 µs": result.latency.p50Us,
    "p90 µs": result.latency.p90Us,
    "p95 µs": result.latency.p95Us,
    "p99 µs": result.latency.p99Us,
    errors: result.errors,
    "server queue µs": server?.queueUs,
    "compute input µs": server?.computeInputUs,
    "compute infer µs": server?.computeInferUs,
    "compute output µs": server?.computeOutputUs,
    "avg batch": server?.averageBatch,
  });
}
if (flags.get("json")) console.log(JSON.stringify({ model, protocol, batchSize, rows }, null, 2));
else console.table(rows);
