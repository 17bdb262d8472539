import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModelInstance } from "../../../src/backends/backend.ts";
import { OnnxBackend } from "../../../src/backends/onnxruntime/onnx-backend.ts";
import { readConfigText } from "../../../src/config/read-config.ts";
import { arrayTypeOf, type DataType } from "../../../src/core/datatype.ts";
import { StageClock } from "../../../src/core/stage-clock.ts";
import type { Tensor, TensorData } from "../../../src/core/tensor.ts";
import { ORT_DATA_TYPES } from "../../support/model-repo.ts";
import { buildOnnxModel, identityModel } from "../../support/onnx-builder.ts";

const dir = mkdtempSync(join(tmpdir(), "ferry-ort-"));
const warnings: string[] = [];
let backend = new OnnxBackend({ warn: (message) => warnings.push(message) });
const config = readConfigText("", "c");

function writeModel(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function load(modelFile: string): Promise<ModelInstance> {
  return backend.load({
    model: "m",
    version: "1",
    config,
    versionDir: dir,
    modelFile,
    instanceName: "m_0",
    device: "cpu",
  });
}

function sampleData(datatype: DataType): TensorData {
  if (datatype === "BYTES") return ["", "héllo", "😀 x"].map((text) => new TextEncoder().encode(text));
  if (datatype === "BOOL") return new Uint8Array([1, 0, 1]);
  if (datatype === "INT64") return new BigInt64Array([-(2n ** 40n), 0n, 2n ** 62n]);
  if (datatype === "UINT64") return new BigUint64Array([0n, 1n, 2n ** 63n]);
  if (datatype === "FP16") return new Uint16Array([0x3c00, 0xc000, 0x7bff]);
  const ArrayType = arrayTypeOf(datatype as Exclude<DataType, "BYTES">);
  const values = datatype.startsWith("U") ? [0, 7, 200] : [-3, 0.5, 100];
  const array = new ArrayType(3) as unknown as number[];
  values.forEach((value, at) => {
    array[at] = datatype.startsWith("FP") ? value : Math.trunc(value);
  });
  return array as unknown as TensorData;
}

function batchOf(inputs: Tensor[], outputs: string[], sizes = [1]) {
  return { inputs, outputs, sizes, clocks: sizes.map(() => new StageClock()) };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Both places a session can run: on the event loop, and in a worker of its own.
for (const execution of ["event-loop", "worker"] as const) {
  describe(`sessions on the ${execution}`, () => {
    beforeAll(() => {
      backend = new OnnxBackend({ warn: (message) => warnings.push(message), execution });
    });
    describe(`OnnxBackend (${execution})`, () => {
      for (const datatype of ORT_DATA_TYPES) {
        it(`passes ${datatype} tensors through a session unchanged`, async () => {
          const instance = await load(writeModel(`id_${datatype}.onnx`, identityModel(datatype, ["b", 3])));
          const data = sampleData(datatype);
          const [outputs] = (await instance.execute(
            batchOf([{ name: "INPUT0", datatype, shape: [1, 3], data }], ["OUTPUT0"]),
          )) as Tensor[][];
          expect(outputs?.[0]?.datatype).toBe(datatype);
          expect(outputs?.[0]?.shape).toEqual([1, 3]);
          expect(outputs?.[0]?.data).toEqual(data);
          await instance.close();
        });
      }

      it("refuses BYTES elements that onnxruntime string tensors would change", async () => {
        const instance = await load(writeModel("id_nul.onnx", identityModel("BYTES", ["b", 1])));
        const run = (element: Uint8Array) =>
          instance.execute(
            batchOf([{ name: "INPUT0", datatype: "BYTES", shape: [1, 1], data: [element] }], ["OUTPUT0"]),
          );
        // (Caught rather than expect().rejects, which Bun does not settle for a rejection from a worker's message.)
        const refusal = (element: Uint8Array) =>
          run(element).then(
            () => "answered",
            (error: Error) => error.message,
          );
        expect(await refusal(new Uint8Array([65, 0, 66]))).toContain(
          "input 'INPUT0' element 0 contains a NUL byte",
        );
        expect(await refusal(new Uint8Array([0xff, 0xfe]))).toContain(
          "input 'INPUT0' element 0 is not valid UTF-8",
        );
        await instance.close();
      });

      it("reads the declared inputs and outputs of a model file", async () => {
        const signature = await backend.inspect(writeModel("sig.onnx", identityModel("FP16", ["batch", 5])));
        expect(signature).toEqual({
          inputs: [{ name: "INPUT0", datatype: "FP16", shape: [-1, 5], frameworkType: "float16" }],
          outputs: [{ name: "OUTPUT0", datatype: "FP16", shape: [-1, 5], frameworkType: "float16" }],
        });
      });

      it("splits batched outputs back per request and stamps the compute stages", async () => {
        const instance = await load(writeModel("split.onnx", identityModel("FP32", ["b", 2])));
        const batch = batchOf(
          [{ name: "INPUT0", datatype: "FP32", shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) }],
          ["OUTPUT0"],
          [1, 2],
        );
        const [first, second] = (await instance.execute(batch)) as Tensor[][];
        expect(Array.from(first?.[0]?.data as Float32Array)).toEqual([1, 2]);
        expect(second?.[0]?.shape).toEqual([2, 2]);
        for (const clock of batch.clocks) {
          expect(clock.computeStart).toBeGreaterThan(0);
          expect(clock.computeEnd).toBeGreaterThanOrEqual(clock.outputStart);
        }
        await instance.close();
      });
    });

    describe(`OnnxBackend failure paths never take the process down (${execution})`, () => {
      let reshaper: ModelInstance;
      const reshaperModel = buildOnnxModel({
        inputs: [
          { name: "DATA", datatype: "FP32", shape: ["n"] },
          { name: "SHAPE", datatype: "INT64", shape: [2] },
        ],
        outputs: [{ name: "OUT", datatype: "FP32", shape: ["a", "b"] }],
        nodes: [{ op: "Reshape", inputs: ["DATA", "SHAPE"], outputs: ["OUT"] }],
      });
      const feeds = (shape: bigint[]) => [
        { name: "DATA", datatype: "FP32" as const, shape: [6], data: new Float32Array(6) },
        { name: "SHAPE", datatype: "INT64" as const, shape: [2], data: new BigInt64Array(shape) },
      ];

      beforeAll(async () => {
        reshaper = await load(writeModel("reshaper.onnx", reshaperModel));
      });

      it("turns an onnxruntime run error into a backend error and keeps the session usable", async () => {
        await expect(reshaper.execute(batchOf(feeds([4n, 4n]), ["OUT"]))).rejects.toThrow(
          /^backend: onnxruntime failed in m_0: /,
        );
        const [outputs] = (await reshaper.execute(batchOf(feeds([2n, 3n]), ["OUT"]))) as Tensor[][];
        expect(outputs?.[0]?.shape).toEqual([2, 3]);
      });

      it("rejects a file that is not a model with a backend error", async () => {
        await expect(load(writeModel("garbage.onnx", new Uint8Array([1, 2, 3, 4])))).rejects.toThrow(
          /^backend: onnxruntime cannot load .*garbage\.onnx/,
        );
      });

      it("waits for a running execution before releasing the session", async () => {
        const instance = await load(writeModel("release.onnx", reshaperModel));
        const running = instance.execute(batchOf(feeds([3n, 2n]), ["OUT"]));
        const closed = instance.close();
        const [outputs] = (await running) as Tensor[][];
        await closed;
        expect(outputs?.[0]?.shape).toEqual([3, 2]);
      });

      it("refuses work after close and tolerates closing twice", async () => {
        const instance = await load(writeModel("twice.onnx", reshaperModel));
        await instance.close();
        await instance.close();
        await expect(instance.execute(batchOf(feeds([2n, 3n]), ["OUT"]))).rejects.toThrow(
          "backend: instance m_0 is closed",
        );
      });
    });
  });
}

describe("execution auto: placed by timing the largest batch", () => {
  const fixedConfig = readConfigText(
    `name: "m" max_batch_size: 4
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [ 3 ] }] output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 3 ] }]`,
    "m",
  );
  const placed = async (options: { autoEventLoopMaxMs: number }, config = fixedConfig) => {
    const infos: string[] = [];
    const auto = new OnnxBackend({ warn: () => {}, info: (message) => infos.push(message), ...options });
    const instance = await auto.load({
      model: "m",
      version: "1",
      config,
      versionDir: dir,
      modelFile: writeModel("auto.onnx", identityModel("FP32", ["b", 3])),
      instanceName: "m_0",
      device: "cpu",
    });
    const [outputs] = (await instance.execute(
      batchOf(
        [{ name: "INPUT0", datatype: "FP32", shape: [1, 3], data: new Float32Array([1, 2, 3]) }],
        ["OUTPUT0"],
      ),
    )) as Tensor[][];
    expect(outputs?.[0]?.data).toEqual(new Float32Array([1, 2, 3]));
    await instance.close();
    return { kind: instance.constructor.name, infos };
  };

  it("moves a model whose batch of max_batch_size computes within the bound to the event loop", async () => {
    const { kind, infos } = await placed({ autoEventLoopMaxMs: 60_000 });
    expect(kind).toBe("OnnxInstance");
    expect(infos[0]).toMatch(/^m_0: on the event loop \(batch of 4 took [\d.]+ ms\)$/);
  });

  it("keeps a model over the bound in its worker", async () => {
    const { kind, infos } = await placed({ autoEventLoopMaxMs: 0 });
    expect(kind).toBe("WorkerInstance");
    expect(infos[0]).toMatch(/^m_0: in a worker \(batch of 4 took [\d.]+ ms\)$/);
  });

  it("keeps a model whose largest batch cannot be known (a variable dimension) in its worker, untimed", async () => {
    const variable = readConfigText(
      `name: "m" max_batch_size: 4
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] }] output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] }]`,
      "m",
    );
    const { kind, infos } = await placed({ autoEventLoopMaxMs: 60_000 }, variable);
    expect(kind).toBe("WorkerInstance");
    expect(infos).toEqual([]);
  });
});
