/**
 * `bun bench/json-liveness.ts`: /v2/health/live while large JSON infer
 * bodies arrive. Eight clients at once each send a ~7.5 MB JSON body (FP32,
 * 7-digit values, under --http-max-json-bytes) to the bundled identity_fp32,
 * for BENCH_ROUNDS rounds (default 4), while a probe asks for liveness
 * every 20 ms. Prints the probe's p50/p99/max and the requests' outcome.
 */
import { join } from "node:path";
import { loopbackListeners, startProcess, stopAll } from "./processes.ts";
import { round, summarize } from "./stats.ts";

const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const listeners = await loopbackListeners();
try {
  await startProcess(
    [
      join(import.meta.dir, "../src/main.ts"),
      `--model-repository=${join(import.meta.dir, "../models")}`,
      "--model-control-mode=explicit",
      "--load-model=identity_fp32",
      ...listeners.flags,
    ],
    `${listeners.http}/v2/health/ready`,
  );
  const count = 800_000;
  const data = Array.from({ length: count }, (_, i) => Number(((i % 997) / 997).toFixed(7)));
  const body = JSON.stringify({ inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, count], data }] });
  const probes: number[] = [];
  let stop = false;
  const probing = (async () => {
    while (!stop) {
      const started = performance.now();
      await fetch(`${listeners.http}/v2/health/live`);
      probes.push((performance.now() - started) * 1000);
      await Bun.sleep(20);
    }
  })();
  const statuses: Record<number, number> = {};
  for (let index = 0; index < rounds; index++) {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const response = await fetch(`${listeners.http}/v2/models/identity_fp32/infer`, {
          method: "POST",
          body,
          headers: { "accept-encoding": "identity" },
        });
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      }),
    );
  }
  stop = true;
  await probing;
  const live = summarize(probes);
  console.log(
    `${(body.length / 1e6).toFixed(1)} MB JSON bodies, 8 at once × ${rounds}: answers ${JSON.stringify(statuses)}; /v2/health/live p50 ${round(live.p50Us / 1000)} ms, p99 ${round(live.p99Us / 1000)} ms, max ${round(Math.max(...probes) / 1000)} ms over ${probes.length} probes`,
  );
} finally {
  stopAll();
}
