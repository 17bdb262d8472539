import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, type ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GRPCInferenceService, type ModelInferRequestSchema } from "../../../src/gen/grpc_service_pb.ts";
import { addEnsemble, addEnsembles, ensembleConfig } from "../../support/ensembles.ts";
import { readJson } from "../../support/json.ts";
import { TestRepository } from "../../support/model-repo.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";
import { addTsModel, FP32_IO, mapModel } from "../../support/ts-models.ts";
import { until } from "../../support/until.ts";

const markers = mkdtempSync(join(tmpdir(), "ferry-ts-markers-"));
const echo = `return { OUTPUT0: { datatype: "FP32", shape: input.shape, data: input.data.map((x) => 2 * x) } };`;
const INT = (name: string) => `{ name: "${name}" data_type: TYPE_INT32 dims: [ 16 ] }`;

const repo = addEnsembles(new TestRepository());
addTsModel(
  repo,
  "lifecycle",
  `max_batch_size: 4 ${FP32_IO} instance_group [ { kind: KIND_CPU count: 2 } ]
parameters { key: "marker_dir" value { string_value: "${markers}" } }`,
  mapModel(
    echo,
    `initialize(args) {
      this.dir = args.config.parameters.marker_dir.string_value;
      this.name = args.instanceName;
      require("node:fs").writeFileSync(this.dir + "/initialized-" + this.name, args.modelName + " " + args.modelVersion + " " + args.instanceKind);
    }
    finalize() { require("node:fs").writeFileSync(this.dir + "/finalized-" + this.name, "bye"); }`,
  ),
);
addTsModel(
  repo,
  "thrower",
  `max_batch_size: 4 ${FP32_IO}`,
  `export default class {
  execute(requests) {
    if (requests.some((request) => request.inputs.INPUT0.data[0] === 13)) throw new Error("thirteen is unlucky");
    return requests.map((request) => request.inputs.INPUT0.data[0] === 7
      ? Object.assign(new Error("seven is not accepted"), { code: "INVALID_ARGUMENT" })
      : { OUTPUT0: request.inputs.INPUT0 });
  }
}`,
);
addTsModel(
  repo,
  "crasher",
  `max_batch_size: 4 ${FP32_IO}`,
  mapModel(`if (input.data[0] === 1) process.exit(9);\n${echo}`),
);
addTsModel(
  repo,
  "sleeper",
  `max_batch_size: 4 ${FP32_IO} parameters { key: "execute_timeout_ms" value { string_value: "300" } }`,
  mapModel(
    `if (input.data[0] === 1) { const end = Date.now() + 3000; while (Date.now() < end) {} }\n${echo}`,
  ),
);
addTsModel(
  repo,
  "spinner",
  `max_batch_size: 4 input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 1 ] } ] output [ { name: "OUTPUT0" data_type: TYPE_STRING dims: [ 1 ] } ]
instance_group [ { kind: KIND_CPU count: 2 } ]`,
  `export default class {
  initialize(args) { this.name = args.instanceName; }
  execute(requests) {
    const end = Date.now() + (requests[0].inputs.INPUT0.data[0] > 0 ? 300 : 0);
    while (Date.now() < end) {}
    return requests.map(() => ({ OUTPUT0: { datatype: "BYTES", shape: [1, 1], data: [new TextEncoder().encode(this.name)] } }));
  }
}`,
);
addTsModel(
  repo,
  "batch_counter",
  `max_batch_size: 8 ${FP32_IO} dynamic_batching { max_queue_delay_microseconds: 50000 }`,
  `export default class {
  execute(requests) {
    return requests.map(() => ({ OUTPUT0: { datatype: "FP32", shape: [1, 1], data: new Float32Array([requests.length]) } }));
  }
}`,
);
addTsModel(
  repo,
  "caller",
  `max_batch_size: 0 input [ ${INT("INPUT0")} ] output [ ${INT("OUTPUT0")} ]`,
  `export default class {
  async execute(requests, context) {
    return Promise.all(requests.map(async (request) => {
      const x = request.inputs.INPUT0;
      const row = { datatype: "INT32", shape: [1, 16], data: x.data };
      // Eight calls at once: the called model's dynamic batcher joins them.
      const answers = await Promise.all(Array.from({ length: 8 }, () => context.infer("add_sub", { INPUT0: row, INPUT1: row }, { outputs: ["OUTPUT0"] })));
      const sum = new Int32Array(16);
      for (const answer of answers) answer.OUTPUT0.data.forEach((value, at) => { sum[at] += value; });
      return { OUTPUT0: { datatype: "INT32", shape: [16], data: sum } };
    }));
  }
}`,
);
addTsModel(
  repo,
  "bad_caller",
  `max_batch_size: 0 input [ ${INT("INPUT0")} ] output [ ${INT("OUTPUT0")} ]`,
  `export default class {
  async execute(requests, context) {
    try { await context.infer("no_such_model", {}); } catch (error) { return requests.map(() => error); }
    return requests.map(() => new Error("the call should have failed"));
  }
}`,
);
addTsModel(
  repo,
  "bytes_echo",
  `max_batch_size: 0 input [ { name: "INPUT0" data_type: TYPE_STRING dims: [ -1 ] } ] output [ { name: "OUTPUT0" data_type: TYPE_STRING dims: [ -1 ] }, { name: "LENGTHS" data_type: TYPE_INT32 dims: [ -1 ] } ]`,
  `export default class {
  execute(requests) {
    return requests.map((request) => {
      const input = request.inputs.INPUT0;
      return {
        OUTPUT0: { datatype: "BYTES", shape: input.shape, data: input.data.map((element) => element.slice().reverse()) },
        LENGTHS: { datatype: "INT32", shape: input.shape, data: Int32Array.from(input.data, (element) => element.length) },
      };
    });
  }
}`,
);
addTsModel(
  repo,
  "autocomplete",
  "",
  `export default class {
  static autoCompleteConfig(config) {
    return { ...config, max_batch_size: 2, input: [{ name: "X", data_type: "TYPE_INT32", dims: [1] }], output: [{ name: "Y", data_type: "TYPE_INT32", dims: [1] }] };
  }
  execute(requests) { return requests.map((request) => ({ Y: request.inputs.X })); }
}`,
);
addTsModel(
  repo,
  "double_int",
  `max_batch_size: 8 input [ ${INT("INPUT0")} ] output [ ${INT("OUTPUT0")} ]`,
  mapModel(
    `return { OUTPUT0: { datatype: "INT32", shape: input.shape, data: input.data.map((x) => 2 * x) } };`,
  ),
);
addEnsemble(
  repo,
  "ts_then_add",
  ensembleConfig("ts_then_add", `input [ ${INT("INPUT0")} ] output [ ${INT("OUTPUT0")} ]`, [
    { model: "double_int", inputs: { INPUT0: "INPUT0" }, outputs: { OUTPUT0: "DOUBLED" } },
    { model: "add_sub", inputs: { INPUT0: "DOUBLED", INPUT1: "INPUT0" }, outputs: { OUTPUT0: "OUTPUT0" } },
  ]),
);
addTsModel(
  repo,
  "calls_ensemble",
  `max_batch_size: 0 input [ ${INT("INPUT0")} ] output [ ${INT("OUTPUT0")} ]`,
  `export default class {
  async execute(requests, context) {
    return Promise.all(requests.map(async (request) => {
      const row = { datatype: "INT32", shape: [1, 16], data: request.inputs.INPUT0.data };
      const answer = await context.infer("ts_then_add", { INPUT0: row });
      return { OUTPUT0: { datatype: "INT32", shape: [16], data: answer.OUTPUT0.data } };
    }));
  }
}`,
);

addTsModel(
  repo,
  "repeater",
  `max_batch_size: 0 input [ ${INT("INPUT0")} ] output [ ${INT("OUTPUT0")} ] model_transaction_policy { decoupled: true }`,
  `export default class {
  execute(requests) {
    for (const request of requests) {
      const times = request.inputs.INPUT0.data[0];
      for (let round = 1; round <= times; round++) {
        request.send({ OUTPUT0: { datatype: "INT32", shape: [16], data: new Int32Array(16).fill(round) } }, { final: round === times && times !== 2 });
      }
    }
    return [];
  }
}`,
);

addTsModel(
  repo,
  "declared_caller",
  `max_batch_size: 0 input [ ${INT("INPUT0")} ] output [ ${INT("OUTPUT0")} ]
parameters { key: "ferry.calls" value { string_value: "add_sub:1" } }`,
  `export default class {
  async execute(requests, context) {
    return Promise.all(requests.map(async (request) => {
      const row = { datatype: "INT32", shape: [1, 16], data: request.inputs.INPUT0.data };
      const target = request.inputs.INPUT0.data[0] === 1 ? "double_int" : "add_sub";
      try {
        const answer = await context.infer(target, target === "add_sub" ? { INPUT0: row, INPUT1: row } : { INPUT0: row });
        return { OUTPUT0: { datatype: "INT32", shape: [16], data: answer.OUTPUT0.data } };
      } catch (error) {
        return error;
      }
    }));
  }
}`,
);

repo.addModel("plain_js", {
  config: `backend: "typescript" max_batch_size: 0 input [ ${INT("INPUT0")} ] output [ ${INT("OUTPUT0")} ]`,
  extra: {
    "1/model.js":
      "module.exports = { execute: (requests) => requests.map((r) => ({ OUTPUT0: r.inputs.INPUT0 })) };",
  },
});

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(repo.root, ["--model-control-mode=explicit", "--load-model=*"]);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
  rmSync(markers, { recursive: true, force: true });
});

const infer = (model: string, inputs: unknown[], signal?: AbortSignal) =>
  fetch(`${server.url}/v2/models/${model}/infer`, {
    method: "POST",
    body: JSON.stringify({ inputs }),
    ...(signal ? { signal } : {}),
  });
const fp32 = (values: number[]) => ({
  name: "INPUT0",
  shape: [1, values.length],
  datatype: "FP32",
  data: values,
});
const int16 = (values: number[]) => ({ name: "INPUT0", shape: [16], datatype: "INT32", data: values });
const stats = async (model: string) =>
  (await readJson(await fetch(`${server.url}/v2/models/${model}/stats`))).model_stats[0];

describe("TypeScript models (backend: typescript)", () => {
  it("runs initialize on every instance, execute per batch, finalize at unload", async () => {
    const answer = await readJson(await infer("lifecycle", [fp32([1, 2, 3])]));
    expect(answer.outputs[0].data).toEqual([2, 4, 6]);
    for (const instance of ["lifecycle_0", "lifecycle_1"]) {
      expect(readFileSync(join(markers, `initialized-${instance}`), "utf8")).toBe("lifecycle 1 CPU");
      expect(existsSync(join(markers, `finalized-${instance}`))).toBe(false);
    }
    await fetch(`${server.url}/v2/repository/models/lifecycle/unload`, { method: "POST" });
    await until("both instances finalized", () =>
      ["lifecycle_0", "lifecycle_1"].every((instance) => existsSync(join(markers, `finalized-${instance}`))),
    );
  });

  it("fails a batch whose execute throws, and one request that gets an Error, naming the model", async () => {
    const thrown = await infer("thrower", [fp32([13])]);
    expect(thrown.status).toBe(500);
    expect((await readJson(thrown)).error).toBe(
      "backend: model 'thrower' execute failed in thrower_0: thirteen is unlucky",
    );
    const refused = await infer("thrower", [fp32([7])]);
    expect(refused.status).toBe(400);
    expect((await readJson(refused)).error).toBe(
      "backend: model 'thrower' execute failed in thrower_0: seven is not accepted",
    );
    expect((await infer("thrower", [fp32([1])])).status).toBe(200);
  });

  it("restarts a crashed worker, failing only the requests it held; the server stays up and ready", async () => {
    const crashed = await infer("crasher", [fp32([1])]);
    expect(crashed.status).toBe(503);
    expect((await readJson(crashed)).error).toBe(
      "backend: model 'crasher' instance crasher_0 crashed: the worker exited (code 9); it restarts",
    );
    await until(
      "the restarted worker answers",
      async () => (await infer("crasher", [fp32([2])])).status === 200,
    );
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    expect((await infer("lifecycle", [fp32([1])])).status).toBe(404);
  });

  it("fails an execute that overruns execute_timeout_ms and restarts the instance", async () => {
    const started = performance.now();
    const slow = await infer("sleeper", [fp32([1])]);
    expect(performance.now() - started).toBeLessThan(2500);
    expect(slow.status).toBe(503);
    expect((await readJson(slow)).error).toBe(
      "backend: model 'sleeper' instance sleeper_0: execute did not finish within 300 ms (parameters execute_timeout_ms); the instance restarts",
    );
    await until(
      "the restarted worker answers",
      async () => (await infer("sleeper", [fp32([2])])).status === 200,
    );
  });

  it("runs instances in parallel: two CPU-bound requests are answered by the two instances", async () => {
    const answers = await Promise.all([1, 2].map(() => infer("spinner", [fp32([1])]).then(readJson)));
    const names = answers.map((answer) => answer.outputs[0].data[0]).sort();
    expect(names).toEqual(["spinner_0", "spinner_1"]);
  });

  it("gets batches from the dynamic batcher like any model", async () => {
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => infer("batch_counter", [fp32([1])]).then(readJson)),
    );
    const sizes = answers.map((answer) => answer.outputs[0].data[0]);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect((await stats("batch_counter")).execution_count).toBeLessThan(4);
  });

  it("calls other models through their scheduler, so their batching applies", async () => {
    const before = await stats("add_sub");
    const answer = await readJson(await infer("caller", [int16(Array(16).fill(3))]));
    expect(answer.outputs[0].data).toEqual(Array(16).fill(8 * 6));
    const after = await stats("add_sub");
    expect(after.inference_count - before.inference_count).toBe(8);
    expect(after.execution_count - before.execution_count).toBeLessThan(8);
  });

  it("reports a failed call to another model as an error naming that model", async () => {
    const failed = await infer("bad_caller", [int16(Array(16).fill(1))]);
    expect(failed.status).toBe(404);
    expect((await readJson(failed)).error).toContain(
      "model 'no_such_model': repository: Request for unknown model",
    );
  });

  it("passes BYTES elements as raw bytes, NUL included", async () => {
    const answer = await readJson(
      await infer("bytes_echo", [
        { name: "INPUT0", shape: [2], datatype: "BYTES", data: ["a\u0000b", "xyz"] },
      ]),
    );
    expect(answer.outputs[0].data).toEqual(["b\u0000a", "zyx"]);
    expect(answer.outputs[1].data).toEqual([3, 3]);
  });

  it("runs model.js when the version holds no model.ts", async () => {
    const answer = await readJson(await infer("plain_js", [int16(Array(16).fill(9))]));
    expect(answer.outputs[0].data).toEqual(Array(16).fill(9));
    const config = await readJson(await fetch(`${server.url}/v2/models/plain_js/config`));
    expect(config.default_model_filename).toBe("model.js");
  });

  it("lets the model complete its own config with a static autoCompleteConfig", async () => {
    const config = await readJson(await fetch(`${server.url}/v2/models/autocomplete/config`));
    expect(config.max_batch_size).toBe(2);
    expect(config.input[0].name).toBe("X");
    const answer = await readJson(
      await infer("autocomplete", [{ name: "X", shape: [1, 1], datatype: "INT32", data: [5] }]),
    );
    expect(answer.outputs[0]).toMatchObject({ name: "Y", data: [5] });
  });

  it("serves as an ensemble step, and calls an ensemble", async () => {
    const values = Array.from({ length: 16 }, (_, at) => at);
    const ensemble = await readJson(
      await fetch(`${server.url}/v2/models/ts_then_add/infer`, {
        method: "POST",
        body: JSON.stringify({
          inputs: [{ name: "INPUT0", shape: [1, 16], datatype: "INT32", data: values }],
        }),
      }),
    );
    expect(ensemble.outputs[0].data).toEqual(values.map((value) => 3 * value));
    const called = await readJson(await infer("calls_ensemble", [int16(values)]));
    expect(called.outputs[0].data).toEqual(values.map((value) => 3 * value));
  });
});

describe("declared calls (parameters ferry.calls)", () => {
  it("lets a model call what it declares, at the declared version, and refuses anything else naming it", async () => {
    const answer = await readJson(await infer("declared_caller", [int16(Array(16).fill(2))]));
    expect(answer.outputs[0].data).toEqual(Array(16).fill(4));
    const refused = await infer("declared_caller", [int16(Array(16).fill(1))]);
    expect(refused.status).toBe(400);
    expect((await readJson(refused)).error).toBe(
      "backend: model 'declared_caller' execute failed in declared_caller_0: model 'double_int': backend: model 'declared_caller' may call only the models its config declares (parameters ferry.calls: add_sub), not 'double_int'",
    );
  });

  it("shows the declared models in the readiness view and follows them", async () => {
    const report = await readJson(await fetch(`${server.url}/v2/health/ready?verbose=true`));
    const model = report.models.find((entry: { name: string }) => entry.name === "declared_caller");
    expect(model.composing_models).toEqual(["add_sub"]);
    const check = model.versions[0].checks.find(
      (entry: { name: string }) => entry.name === "composing_models",
    );
    expect(check).toMatchObject({ status: "PASS", detail: "'add_sub' ready" });
  });
});

describe("decoupled TypeScript models (model_transaction_policy { decoupled: true })", () => {
  const client = () => createClient(GRPCInferenceService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  const request = (
    id: string,
    times: number,
    emptyFinal = false,
  ): MessageInitShape<typeof ModelInferRequestSchema> => ({
    modelName: "repeater",
    id,
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [16n] }],
    rawInputContents: [new Uint8Array(new Int32Array(16).fill(times).buffer)],
    parameters: emptyFinal
      ? {
          triton_enable_empty_final_response: {
            parameterChoice: { case: "boolParam" as const, value: true },
          },
        }
      : {},
  });

  it("streams every response over ModelStreamInfer, the last flagged triton_final_response", async () => {
    async function* requests() {
      yield request("three", 3);
      yield request("one", 1);
      yield request("two", 2, true);
    }
    const seen: Record<string, [number, boolean][]> = {};
    for await (const message of client().modelStreamInfer(requests())) {
      expect(message.errorMessage).toBe("");
      const response = message.inferResponse;
      if (!response) continue;
      const raw = response.rawOutputContents[0];
      const value = raw ? (new Int32Array(raw.slice().buffer)[0] ?? -1) : 0;
      const final = response.parameters.triton_final_response?.parameterChoice.value === true;
      seen[response.id] = [...(seen[response.id] ?? []), [value, final]];
      expect(response.modelName).toBe("repeater");
      expect(response.modelVersion).toBe("1");
    }
    expect(seen.three).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(seen.one).toEqual([[1, true]]);
    // Not flagged final by the model: triton_enable_empty_final_response adds an empty final one.
    expect(seen.two).toEqual([
      [1, false],
      [2, false],
      [0, true],
    ]);
  });

  it("is refused over unary endpoints, as Triton does", async () => {
    const message =
      "protocol: model 'repeater' is decoupled (model_transaction_policy): its responses stream over gRPC ModelStreamInfer only";
    const http = await infer("repeater", [int16(Array(16).fill(1))]);
    expect(http.status).toBe(400);
    expect((await readJson(http)).error).toBe(message);
    const error = await client()
      .modelInfer(request("unary", 1))
      .catch((caught: unknown) => caught as ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toBe(message);
  });
});
