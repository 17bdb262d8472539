import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { latencyObjectiveOf } from "../../src/config/latency-objective.ts";
import { validateConfig } from "../../src/config/validate.ts";
import { completedConfig, FP32_TENSORS as TENSORS } from "../support/config-text.ts";

function config(parameters: Record<string, string>, scheduling = "dynamic_batching { }") {
  const entries = Object.entries(parameters)
    .map(([key, value]) => `parameters { key: "${key}" value { string_value: "${value}" } }`)
    .join(" ");
  return completedConfig(`max_batch_size: 8 ${TENSORS} ${scheduling} ${entries}`);
}

describe("the latency objective parameters", () => {
  it("are absent by default: batching stays Triton's", () => {
    expect(latencyObjectiveOf(config({}))).toBeUndefined();
  });

  it("read the objective, the percentile (default 99) and what happens to late requests (default serve)", () => {
    expect(latencyObjectiveOf(config({ "ferry.latency_objective_ms": "50" }))).toEqual({
      objectiveMs: 50,
      percentile: 99,
      lateRequests: "serve",
    });
    const full = config({
      "ferry.latency_objective_ms": "2.5",
      "ferry.latency_objective_percentile": "95",
      "ferry.late_requests": "reject",
    });
    expect(latencyObjectiveOf(full)).toEqual({ objectiveMs: 2.5, percentile: 95, lateRequests: "reject" });
  });

  it("apply to the default scheduler too (early rejection, goodput)", () => {
    expect(latencyObjectiveOf(config({ "ferry.latency_objective_ms": "50" }, ""))).toBeDefined();
  });

  const invalid: [string, Record<string, string>, string, string?][] = [
    [
      "a non-number",
      { "ferry.latency_objective_ms": "fast" },
      "parameters['ferry.latency_objective_ms']: must be a number of milliseconds > 0, got 'fast'",
    ],
    ["zero", { "ferry.latency_objective_ms": "0" }, "must be a number of milliseconds > 0, got '0'"],
    ["an empty objective", { "ferry.latency_objective_ms": "" }, "got ''"],
    [
      "a percentile of 100",
      { "ferry.latency_objective_ms": "50", "ferry.latency_objective_percentile": "100" },
      "parameters['ferry.latency_objective_percentile']: must be a number in (0, 100), got '100'",
    ],
    [
      "an unknown late-request policy",
      { "ferry.latency_objective_ms": "50", "ferry.late_requests": "drop" },
      `parameters['ferry.late_requests']: must be "serve" or "reject", got 'drop'`,
    ],
    [
      "a percentile without an objective",
      { "ferry.latency_objective_percentile": "95" },
      "parameters['ferry.latency_objective_percentile']: has no effect without 'ferry.latency_objective_ms'",
    ],
    [
      "an objective on a sequence model",
      { "ferry.latency_objective_ms": "50" },
      "not to sequence_batching",
      "sequence_batching { }",
    ],
  ];
  for (const [what, parameters, message, scheduling] of invalid) {
    it(`refuse ${what}, naming the parameter`, () => {
      const parsed = config(parameters, scheduling);
      expect(() => latencyObjectiveOf(parsed)).toThrow(message);
      expect(() => validateConfig(parsed, "m", "m/config.pbtxt")).toThrow(`m/config.pbtxt: `);
      expect(() => validateConfig(parsed, "m", "m/config.pbtxt")).toThrow(message);
    });
  }
});

it("the README's example parses to the objective it describes", () => {
  const readme = readFileSync(join(import.meta.dir, "..", "..", "README.md"), "utf8");
  const example =
    /```\n(dynamic_batching \{ \}\nparameters \{ key: "ferry\.latency_objective_ms"[\s\S]*?)```/.exec(readme);
  expect(example?.[1]).toBeDefined();
  const parsed = completedConfig(`max_batch_size: 8 ${TENSORS} ${example?.[1]}`);
  expect(latencyObjectiveOf(parsed)).toEqual({ objectiveMs: 50, percentile: 99, lateRequests: "reject" });
});
