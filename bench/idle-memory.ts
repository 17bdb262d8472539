/**
 * `npm run bench:memory`: resident memory of ferry at rest. Starts what
 * `npm start` starts (the bundled models/ repository) on free loopback
 * ports, waits for readiness and a settling pause, and reads VmRSS; then
 * each bundled model alone (explicit mode, the models it calls included),
 * an empty repository, and a bare Bun process that only imports
 * onnxruntime-node — so the table shows what each part adds.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { rssMb } from "./process-cpu.ts";
import { loopbackListeners, startProcess } from "./processes.ts";

const root = join(import.meta.dir, "..");
const settleMs = Number(process.env.BENCH_SETTLE_MS ?? 3000);

function memoryOf(pid: number): { rssMb: number; threads: number } {
  return { rssMb: rssMb(pid), threads: readdirSync(`/proc/${pid}/task`).length };
}

async function measure(
  args: string[],
  ready: (base: string) => string,
): Promise<{ rssMb: number; threads: number }> {
  const listeners = await loopbackListeners();
  const server: Subprocess = await startProcess(
    [join(root, "src/main.ts"), ...args, ...listeners.flags, "--exit-timeout-secs=0"],
    ready(listeners.http),
    true,
  );
  await Bun.sleep(settleMs);
  const memory = memoryOf(server.pid);
  server.kill("SIGTERM");
  await server.exited;
  return memory;
}

const rows: { what: string; "RSS MB": number; threads: number }[] = [];
const row = (what: string, memory: { rssMb: number; threads: number }) => {
  rows.push({ what, "RSS MB": memory.rssMb, threads: memory.threads });
  console.error(`${what}: ${memory.rssMb} MB, ${memory.threads} threads`);
};

const bare = Bun.spawn(
  [process.execPath, "-e", 'await import("onnxruntime-node"); setInterval(() => {}, 1000);'],
  {
    stdout: "ignore",
  },
);
await Bun.sleep(settleMs);
row("bun + onnxruntime-node imported, nothing else", memoryOf(bare.pid));
bare.kill();

const empty = mkdtempSync(join(tmpdir(), "ferry-empty-"));
row(
  "ferry, empty repository",
  await measure([`--model-repository=${empty}`], (base) => `${base}/v2/health/ready`),
);
rmSync(empty, { recursive: true, force: true });

const models = join(root, "models");
row(
  "ferry, npm start (all bundled models)",
  await measure([`--model-repository=${models}`], (base) => `${base}/v2/health/ready`),
);
const names = readdirSync(models, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
for (const name of names) {
  row(
    `ferry, only '${name}'`,
    await measure(
      [`--model-repository=${models}`, "--model-control-mode=explicit", `--load-model=${name}`],
      (base) => `${base}/v2/models/${name}/ready`,
    ),
  );
}
console.table(rows);
