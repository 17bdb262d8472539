/**
 * `npm run bench:soak`: minutes of mixed load on one ferry process — HTTP
 * JSON and binary tensors, gRPC, Connect, malformed requests, liveness
 * probes, and a model unloaded and loaded again every 10 s — recording per
 * interval what was sent, answered and failed, p50/p99 latency, liveness
 * p99 and the server's RSS. Prints a table, writes bench/out/soak.json and
 * the plot bench/soak.svg. Knobs: SOAK_MINUTES (default 2),
 * SOAK_BUCKET_SECS (30), SOAK_CONCURRENCY (per kind of load, default 2).
 * All load goes to 127.0.0.1.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { ModelInferRequestSchema } from "../src/gen/grpc_service_pb.ts";
import { grpcSender } from "./grpc-sender.ts";
import { httpSender, type Send } from "./load.ts";
import { requestFromMetadata } from "./model-request.ts";
import { rssMb } from "./process-cpu.ts";
import { loopbackListeners, startProcess, stopAll } from "./processes.ts";
import { round, summarize } from "./stats.ts";
import { lineChart } from "./svg-plot.ts";

const root = join(import.meta.dir, "..");
const minutes = Number(process.env.SOAK_MINUTES ?? 2);
const bucketSecs = Number(process.env.SOAK_BUCKET_SECS ?? 30);
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 2);
const CHURN_MODEL = "identity_bytes";

interface Bucket {
  sent: number;
  answered: number;
  failed: number;
  /** Malformed requests answered with the expected 4xx. */
  refusedAsExpected: number;
  latenciesUs: number[];
  liveUs: number[];
  rssMb: number;
}
const newBucket = (): Bucket => ({
  sent: 0,
  answered: 0,
  failed: 0,
  refusedAsExpected: 0,
  latenciesUs: [],
  liveUs: [],
  rssMb: 0,
});

try {
  const listeners = await loopbackListeners();
  const { http, grpcPort } = listeners;
  const server = await startProcess(
    [
      join(root, "src/main.ts"),
      `--model-repository=${join(root, "models")}`,
      "--model-control-mode=explicit",
      "--load-model=simple",
      "--load-model=identity_fp32",
      `--load-model=${CHURN_MODEL}`,
      ...listeners.flags,
    ],
    `${http}/v2/health/ready`,
  );
  const simpleInputs = [
    { name: "INPUT0", datatype: "INT32", shape: [-1, 16] },
    { name: "INPUT1", datatype: "INT32", shape: [-1, 16] },
  ];
  const shape = { batchSize: 1, batching: true, shapes: new Map<string, number[]>() };
  const grpcRequest = {
    modelName: "simple",
    inputs: simpleInputs.map(({ name, datatype }) => ({ name, datatype, shape: [1n, 16n] })),
    rawInputContents: simpleInputs.map(() => new Uint8Array(64)),
  };
  const connectBody = toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, grpcRequest));
  const kinds: { name: string; send: Send; malformed?: boolean }[] = [
    {
      name: "HTTP JSON",
      send: httpSender(
        `${http}/v2/models/simple/infer`,
        requestFromMetadata(simpleInputs, { ...shape, tensors: "json" }),
      ),
    },
    {
      name: "HTTP binary",
      send: httpSender(
        `${http}/v2/models/simple/infer`,
        requestFromMetadata(simpleInputs, { ...shape, tensors: "binary" }),
      ),
    },
    {
      name: "HTTP JSON, FP32 4096",
      send: httpSender(
        `${http}/v2/models/identity_fp32/infer`,
        requestFromMetadata([{ name: "INPUT0", datatype: "FP32", shape: [-1, -1] }], {
          ...shape,
          shapes: new Map([["INPUT0", [4096]]]),
          tensors: "json",
        }),
      ),
    },
    { name: "gRPC", send: grpcSender(`http://127.0.0.1:${grpcPort}`, grpcRequest) },
    {
      name: "Connect",
      send: async () => {
        const response = await fetch(`${http}/inference.GRPCInferenceService/ModelInfer`, {
          method: "POST",
          body: connectBody,
          headers: { "content-type": "application/proto" },
        });
        await response.arrayBuffer();
        return response.ok;
      },
    },
    {
      name: "malformed JSON",
      malformed: true,
      send: async () => {
        const response = await fetch(`${http}/v2/models/simple/infer`, {
          method: "POST",
          body: '{"inputs": [',
        });
        await response.arrayBuffer();
        return response.status === 400;
      },
    },
  ];

  const failuresByKind = new Map<string, number>();
  const buckets: Bucket[] = [newBucket()];
  const current = () => buckets.at(-1) as Bucket;
  const rssStart = rssMb(server.pid);
  let rssPeak = rssStart;
  const started = performance.now();
  const end = started + minutes * 60_000;
  let stop = false;

  const worker = async (kind: (typeof kinds)[number]) => {
    while (!stop) {
      const bucket = current();
      bucket.sent++;
      const begun = performance.now();
      const ok = await kind.send().catch(() => false);
      if (ok && kind.malformed) bucket.refusedAsExpected++;
      else if (ok) {
        bucket.answered++;
        bucket.latenciesUs.push((performance.now() - begun) * 1000);
      } else {
        bucket.failed++;
        failuresByKind.set(kind.name, (failuresByKind.get(kind.name) ?? 0) + 1);
      }
    }
  };
  const prober = async () => {
    while (!stop) {
      const begun = performance.now();
      const ok = await fetch(`${http}/v2/health/live`)
        .then((response) => response.ok)
        .catch(() => false);
      if (ok) current().liveUs.push((performance.now() - begun) * 1000);
      else current().failed++;
      await Bun.sleep(200);
    }
  };
  // Model churn: the repository API unloads and loads a model the load does not use.
  const churner = async () => {
    while (!stop) {
      await Bun.sleep(10_000);
      if (stop) break;
      for (const action of ["unload", "load"]) {
        const response = await fetch(`${http}/v2/repository/models/${CHURN_MODEL}/${action}`, {
          method: "POST",
        });
        if (!response.ok) current().failed++;
      }
    }
  };
  const sampler = async () => {
    while (!stop) {
      await Bun.sleep(1000);
      const rss = rssMb(server.pid);
      rssPeak = Math.max(rssPeak, rss);
      current().rssMb = rss;
      if (performance.now() - started >= buckets.length * bucketSecs * 1000 && performance.now() < end)
        buckets.push({ ...newBucket(), rssMb: rss });
    }
  };
  const running = [
    ...kinds.flatMap((kind) => Array.from({ length: concurrency }, () => worker(kind))),
    prober(),
    churner(),
    sampler(),
  ];
  await Bun.sleep(end - performance.now());
  stop = true;
  await Promise.all(running);
  const rssEnd = rssMb(server.pid);

  const rows = buckets.map((bucket, index) => {
    const latency = summarize(bucket.latenciesUs);
    const live = summarize(bucket.liveUs);
    return {
      "from s": index * bucketSecs,
      sent: bucket.sent,
      answered: bucket.answered,
      "refused as expected": bucket.refusedAsExpected,
      failed: bucket.failed,
      "p50 ms": round(latency.p50Us / 1000, 2),
      "p99 ms": round(latency.p99Us / 1000, 2),
      "live p99 ms": round(live.p99Us / 1000, 2),
      "RSS MB": bucket.rssMb,
    };
  });
  const total = (key: "sent" | "answered" | "failed" | "refused as expected") =>
    rows.reduce((sum, row) => sum + row[key], 0);
  const totals = {
    minutes,
    concurrency: concurrency * kinds.length,
    sent: total("sent"),
    answered: total("answered"),
    "refused as expected": total("refused as expected"),
    failed: total("failed"),
    "RSS start MB": rssStart,
    "RSS peak MB": rssPeak,
    "RSS end MB": rssEnd,
  };
  console.log(
    `\nsoak: ${minutes} min, ${kinds.map((kind) => kind.name).join(", ")} × ${concurrency}, ${new Date().toISOString()}`,
  );
  console.table(rows);
  console.table([totals]);
  if (failuresByKind.size > 0) console.log("failures by kind:", Object.fromEntries(failuresByKind));
  mkdirSync(join(root, "bench/out"), { recursive: true });
  writeFileSync(
    join(root, "bench/out/soak.json"),
    JSON.stringify({ rows, totals, failuresByKind: Object.fromEntries(failuresByKind) }, null, 2),
  );
  const at = (index: number) => ((index + 1) * bucketSecs) / 60;
  writeFileSync(
    join(root, "bench/soak.svg"),
    lineChart(`ferry soak: ${minutes} min of mixed load`, "minutes", [
      {
        name: "p99 latency",
        unit: "ms",
        color: "#c0392b",
        points: rows.map((row, i) => [at(i), row["p99 ms"]]),
      },
      { name: "RSS", unit: "MB", color: "#2471a3", points: rows.map((row, i) => [at(i), row["RSS MB"]]) },
    ]),
  );
} finally {
  stopAll();
}
