/**
 * `bun bench/json-tensors.ts`: the v2 HTTP JSON tensor codec in-process —
 * decodeInferRequest of a JSON body and encodeInferResponse of JSON outputs —
 * against the same files at a base commit (`BENCH_BASE`, default the commit
 * before the typed fast paths), for FP32 and INT32 tensors of 1×1024 and
 * 64×1024. Old and new take turns in short rounds (`BENCH_ROUNDS`, default
 * 7) so drift hits both alike; figures are per-round medians.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { InferResponse } from "../src/core/request.ts";
import type { Tensor } from "../src/core/tensor.ts";
import { decodeInferRequest as newDecode } from "../src/protocol/http/infer-request.ts";
import { encodeInferResponse as newEncode } from "../src/protocol/http/infer-response.ts";

const root = join(import.meta.dir, "..");
const base = process.env.BENCH_BASE ?? "0ecb8bb";
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const utf8 = new TextEncoder();

/** The codec files as they were at `base`, with imports pointed back at today's src/ for everything else. */
async function loadBase() {
  const dir = join(root, "bench/out/json-tensors-base");
  mkdirSync(dir, { recursive: true });
  for (const file of ["infer-request.ts", "infer-response.ts", "json-data.ts"]) {
    const text = await Bun.$`git -C ${root} show ${base}:src/protocol/http/${file}`.text();
    writeFileSync(
      join(dir, file),
      text
        .replaceAll('from "../../', `from "${root}/src/`)
        .replaceAll('from "../', `from "${root}/src/protocol/`),
    );
  }
  const request = await import(join(dir, "infer-request.ts"));
  const response = await import(join(dir, "infer-response.ts"));
  return {
    decode: request.decodeInferRequest as typeof newDecode,
    encode: response.encodeInferResponse as Encode,
  };
}

type Encode = (
  response: InferResponse,
  binary: (name: string) => boolean,
) => { body: Uint8Array | string; headerLength?: number };

function tensor(datatype: "FP32" | "INT32", rows: number): Tensor {
  const count = rows * 1024;
  const data = datatype === "FP32" ? new Float32Array(count) : new Int32Array(count);
  for (let i = 0; i < count; i++)
    data[i] = datatype === "FP32" ? Math.random() * 2 - 1 : (Math.random() * 2e6) | 0;
  return { name: "OUTPUT0", datatype, shape: [rows, 1024], data };
}

/** µs per call, over enough calls to fill about `ms`. */
function time(fn: () => unknown, ms: number): number {
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 5; i++) fn();
    calls += 5;
    now = performance.now();
  }
  return ((now - start) * 1000) / calls;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const old = await loadBase();
const target = { model: "m", signal: new AbortController().signal, modelInterface: () => ({}) as never };
const rows: string[] = [];
for (const datatype of ["FP32", "INT32"] as const) {
  for (const batch of [1, 64]) {
    const output = tensor(datatype, batch);
    const response: InferResponse = { model: "m", version: "1", outputs: [output] } as InferResponse;
    const input = { ...output, name: "INPUT0", data: Array.from(output.data as Float32Array) };
    const body = utf8.encode(JSON.stringify({ inputs: [input] }));
    const cases = {
      "decode old": () => old.decode(body, null, target),
      "decode new": () => newDecode(body, null, target),
      "encode old": () => old.encode(response, () => false),
      "encode old + UTF-8": () => utf8.encode(old.encode(response, () => false).body as string),
      "encode new": () => newEncode(response, () => false),
    };
    const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]));
    const window = batch === 1 ? 150 : 400;
    for (const fn of Object.values(cases)) time(fn, window); // warm up
    for (let round = 0; round < rounds; round++) {
      for (const [name, fn] of Object.entries(cases)) samples.get(name)?.push(time(fn, window));
    }
    const us = (name: string) => median(samples.get(name) as number[]);
    const oldSize = utf8.encode(old.encode(response, () => false).body as string).byteLength;
    const newSize = (newEncode(response, () => false).body as Uint8Array).byteLength;
    const label = `${datatype} ${batch}×1024`;
    rows.push(
      `| ${label} | decode | ${us("decode old").toFixed(1)} | ${us("decode new").toFixed(1)} | ${(us("decode new") / us("decode old")).toFixed(2)} | |`,
      `| ${label} | encode | ${us("encode old").toFixed(1)} (${us("encode old + UTF-8").toFixed(1)} with UTF-8) | ${us("encode new").toFixed(1)} | ${(us("encode new") / us("encode old")).toFixed(2)} (${(us("encode new") / us("encode old + UTF-8")).toFixed(2)}) | ${oldSize} → ${newSize} |`,
    );
  }
}
console.log(`base ${base}, ${rounds} rounds, per-round medians`);
console.log("| tensor | op | old µs | new µs | new/old | body bytes |");
console.log("| --- | --- | ---: | ---: | ---: | --- |");
for (const row of rows) console.log(row);
