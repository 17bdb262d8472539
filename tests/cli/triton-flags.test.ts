import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlagError } from "../../src/cli/flags.ts";
import { type ServeOptions, serveOptions } from "../../src/cli/serve-options.ts";
import { TRITON_ONLY_FLAGS } from "../../src/cli/triton-flags.ts";
import { createLogger } from "../../src/core/log.ts";
import { addSimple, TestRepository } from "../support/model-repo.ts";
import { freePort } from "../support/ports.ts";
import { metricValue, startTestServer } from "../support/test-server.ts";
import { until } from "../support/until.ts";

const parse = (...argv: string[]) => serveOptions(["--model-repository=/m", ...argv]) as ServeOptions;
const repo = addSimple(new TestRepository());
const dir = mkdtempSync(join(tmpdir(), "ferry-log-"));
afterAll(() => {
  repo.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** A value each kind of flag accepts without asking for anything ferry cannot give. */
const harmless = { integer: "1", boolean: "false", string: "", list: "x" } as const;

describe("tritonserver command lines start", () => {
  for (const { spec } of TRITON_ONLY_FLAGS) {
    it(`accepts --${spec.name} with one warning naming it`, () => {
      const options = parse(`--${spec.name}=${harmless[spec.kind]}`);
      expect(options.compatibilityWarnings).toHaveLength(1);
      expect(options.compatibilityWarnings[0]).toStartWith(
        `--${spec.name} is accepted for tritonserver compatibility: `,
      );
    });
  }

  it("refuses what it cannot give: TLS, namespacing, other endpoints, shared memory, header forwarding", () => {
    for (const [flag, reason] of [
      ["--grpc-use-ssl=true", "ferry serves gRPC without TLS"],
      ["--grpc-server-cert=/tls/cert.pem", "ferry serves gRPC without TLS"],
      ["--model-namespacing=true", "does not namespace models"],
      ["--allow-sagemaker=true", "no SageMaker endpoint"],
      ["--allow-client-shm=true", "shared-memory extensions"],
      ["--http-header-forward-pattern=.*", "does not forward request headers"],
    ]) {
      expect(() => parse(flag as string)).toThrow(FlagError);
      expect(() => parse(flag as string)).toThrow(reason as string);
    }
  });

  it("reads the logging and metrics flags it implements", () => {
    const options = parse(
      "--log-info=false",
      "--log-format=ISO8601",
      "--log-file=/tmp/x.log",
      "--allow-gpu-metrics=false",
      "--allow-cpu-metrics=false",
      "--metrics-interval-ms=500",
      "--metrics-config=summary_latencies=true",
      "--metrics-config=summary_quantiles=0.5:0.05,0.99:0.001",
      "--model-load-thread-count=2",
      "--model-load-retry-count=3",
    );
    expect(options).toMatchObject({
      logInfo: false,
      logFormat: "ISO8601",
      logFile: "/tmp/x.log",
      allowGpuMetrics: false,
      allowCpuMetrics: false,
      metricsIntervalMs: 500,
      summaryLatencies: true,
      summaryQuantiles: [
        { quantile: 0.5, error: 0.05 },
        { quantile: 0.99, error: 0.001 },
      ],
      modelLoadThreadCount: 2,
      modelLoadRetryCount: 3,
      compatibilityWarnings: [],
    });
    expect(() => parse("--metrics-config=summary_quantiles=1.5:0.1")).toThrow(
      "--metrics-config summary_quantiles expects <quantile>:<error>,... with both in (0, 1), got '1.5:0.1'",
    );
  });
});

describe("logs", () => {
  it("writes one parseable JSON object per line, with the model and version as fields", () => {
    const lines: string[] = [];
    const log = createLogger({ format: "json", write: (line) => lines.push(line) });
    log.info("model 'simple' version 3 is READY (load 12 ms)");
    log.warn("queue full", { model: "m", request_id: "r-1" });
    log.error('a "quoted"\nmessage');
    const parsed = lines.map((line) => {
      expect(line.endsWith("\n")).toBe(true);
      expect(line.slice(0, -1)).not.toContain("\n");
      return JSON.parse(line);
    });
    expect(parsed[0]).toMatchObject({ level: "info", model: "simple", version: "3" });
    expect(Number.isNaN(Date.parse(parsed[0].time))).toBe(false);
    expect(parsed[1]).toMatchObject({
      level: "warning",
      message: "queue full",
      model: "m",
      request_id: "r-1",
    });
    expect(parsed[2]).toMatchObject({ level: "error", message: 'a "quoted"\nmessage' });
  });

  it("drops the levels turned off and puts the time first in ISO8601", () => {
    const lines: string[] = [];
    const log = createLogger({ format: "ISO8601", info: false, write: (line) => lines.push(line) });
    log.info("hidden");
    log.warn("shown");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z W shown\n$/);
  });

  it("appends to --log-file, in JSON when asked", async () => {
    const file = join(dir, "ferry.log");
    const ferry = Bun.spawn(
      [
        process.execPath,
        join(import.meta.dir, "../../src/main.ts"),
        `--model-repository=${repo.root}`,
        "--http-address=127.0.0.1",
        `--http-port=${freePort()}`,
        `--grpc-port=${freePort()}`,
        `--metrics-port=${freePort()}`,
        `--log-file=${file}`,
        "--log-format=json",
        "--http-thread-count=8",
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    try {
      const lines = () => {
        try {
          return readFileSync(file, "utf8")
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line));
        } catch {
          return [];
        }
      };
      await until(
        "ferry logs ready to its file",
        () => lines().some((line) => line.message.startsWith("ready:")),
        30_000,
      );
      expect(lines()[0]).toMatchObject({
        level: "warning",
        message:
          "--http-thread-count is accepted for tritonserver compatibility: no effect: HTTP is served by Bun's event loop; inference runs in workers",
      });
      expect(lines().find((line) => line.model === "simple")).toMatchObject({
        model: "simple",
        version: "1",
      });
    } finally {
      ferry.kill("SIGKILL");
      await ferry.exited;
    }
    expect(await new Response(ferry.stderr).text()).toBe("");
  }, 60_000);
});

describe("metrics flags", () => {
  it("serves tritonserver's latency summaries whose _sum and _count equal the counters", async () => {
    const server = await startTestServer(repo.root, [
      "--metrics-config=summary_latencies=true",
      "--allow-cpu-metrics=false",
    ]);
    try {
      const body = {
        inputs: ["INPUT0", "INPUT1"].map((name) => ({
          name,
          shape: [1, 16],
          datatype: "INT32",
          data: Array.from({ length: 16 }, (_, i) => i),
        })),
      };
      for (let i = 0; i < 3; i++)
        await fetch(`${server.url}/v2/models/simple/infer`, { method: "POST", body: JSON.stringify(body) });
      const text = await (await fetch(server.metricsUrl)).text();
      const labels = '{model="simple",version="1"}';
      expect(metricValue(text, `nv_inference_request_summary_us_count${labels}`)).toBe(3);
      expect(metricValue(text, `nv_inference_request_summary_us_sum${labels}`)).toBeCloseTo(
        metricValue(text, `nv_inference_request_duration_us${labels}`) as number,
        0,
      );
      for (const stage of ["queue", "compute_input", "compute_infer", "compute_output"])
        expect(text).toContain(
          `nv_inference_${stage}_summary_us{quantile="0.99",model="simple",version="1"}`,
        );
      expect(text).not.toContain("nv_cpu_utilization");
    } finally {
      await server.stop({ graceSecs: 0 });
    }
  });
});
