import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DATA_TYPES, type DataType } from "../../src/core/datatype.ts";
import { accumulatorModel, addSubModel, buildOnnxModel, identityModel } from "./onnx-builder.ts";

/** Datatypes onnxruntime-node can exchange (all but BF16). */
export const ORT_DATA_TYPES = DATA_TYPES.filter((datatype) => datatype !== "BF16");

export function configTypeName(datatype: DataType): string {
  return datatype === "BYTES" ? "TYPE_STRING" : `TYPE_${datatype}`;
}

/** A model repository in a temp directory; `remove()` deletes it. */
export class TestRepository {
  readonly root = mkdtempSync(join(tmpdir(), "ferry-repo-"));

  addModel(
    name: string,
    files: {
      config?: string;
      versions?: Record<number, Uint8Array>;
      extra?: Record<string, string | Uint8Array>;
    },
  ) {
    const dir = join(this.root, name);
    mkdirSync(dir, { recursive: true });
    if (files.config !== undefined) writeFileSync(join(dir, "config.pbtxt"), files.config);
    for (const [version, bytes] of Object.entries(files.versions ?? {})) {
      mkdirSync(join(dir, version), { recursive: true });
      writeFileSync(join(dir, version, "model.onnx"), bytes);
    }
    for (const [path, content] of Object.entries(files.extra ?? {})) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    return this;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** `simple` as in models/: INT32 [16] add/sub with max_batch_size 8. */
export function addSimple(repo: TestRepository, name = "simple"): TestRepository {
  return repo.addModel(name, {
    config: `name: "${name}"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
instance_group [ { kind: KIND_CPU count: 2 } ]`,
    versions: { 1: addSubModel("INT32", ["batch", 16]) },
  });
}

/** `identity_<type>` for every ORT datatype: OUTPUT0 = INPUT0, dims [-1], max_batch_size 4. */
export function addIdentities(
  repo: TestRepository,
  datatypes: readonly (typeof ORT_DATA_TYPES)[number][] = ORT_DATA_TYPES,
): TestRepository {
  for (const datatype of datatypes) {
    const type = configTypeName(datatype);
    repo.addModel(`identity_${datatype.toLowerCase()}`, {
      config: `backend: "onnxruntime"
max_batch_size: 4
input [ { name: "INPUT0" data_type: ${type} dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: ${type} dims: [ -1 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]`,
      versions: { 1: identityModel(datatype, ["batch", "n"]) },
    });
  }
  return repo;
}

/**
 * `reshaper`: OUTPUT0 = Reshape(DATA, SHAPE). A SHAPE that does not fit
 * DATA makes onnxruntime fail at run time, which tests use to drive ORT errors.
 */
export function addReshaper(repo: TestRepository): TestRepository {
  return repo.addModel("reshaper", {
    config: `backend: "onnxruntime"
max_batch_size: 0
input [ { name: "DATA" data_type: TYPE_FP32 dims: [ -1 ] }, { name: "SHAPE" data_type: TYPE_INT64 dims: [ 2 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1, -1 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
model_warmup [{
  name: "six as 2x3"
  inputs { key: "DATA" value { data_type: TYPE_FP32 dims: [ 6 ] zero_data: true } }
  inputs { key: "SHAPE" value { data_type: TYPE_INT64 dims: [ 2 ] input_data_file: "shape_2x3" } }
}]`,
    extra: { "warmup/shape_2x3": new Uint8Array(new BigInt64Array([2n, 3n]).buffer) },
    versions: {
      1: buildOnnxModel({
        inputs: [
          { name: "DATA", datatype: "FP32", shape: ["n"] },
          { name: "SHAPE", datatype: "INT64", shape: [2] },
        ],
        outputs: [{ name: "OUTPUT0", datatype: "FP32", shape: ["a", "b"] }],
        nodes: [{ op: "Reshape", inputs: ["DATA", "SHAPE"], outputs: ["OUTPUT0"] }],
      }),
    },
  });
}

/** `accumulator` exactly as in models/ (config and model), optionally with another strategy block. */
export function addAccumulator(
  repo: TestRepository,
  name = "accumulator",
  strategy = "direct { }",
): TestRepository {
  const bundled = readFileSync(join(import.meta.dir, "../../models/accumulator/config.pbtxt"), "utf8");
  return repo.addModel(name, {
    config: bundled.replace('name: "accumulator"', `name: "${name}"`).replace("direct { }", strategy),
    versions: { 1: accumulatorModel() },
  });
}
