import { describe, expect, it } from "bun:test";
import { parseManifest } from "../../src/repository/manifest.ts";

const digest = { sha256: "a".repeat(64), size: 3 };
const valid = {
  schema: "ferry.promotion/v1",
  model: "m",
  revision: 2,
  serving: [
    { version: "1", weight: 90, files: { "config.pbtxt": digest, "1/model.onnx": digest } },
    {
      version: "2",
      weight: 10,
      files: { "config.pbtxt": digest, "2/model.onnx": digest },
      validation: { max_latency_ms: 50, device: "gpu" },
    },
  ],
  promoted_by: "ci@build",
  promoted_at: "2026-11-25T10:00:00.000Z",
  history: [
    {
      revision: 1,
      serving: [{ version: "1", weight: 100, files: { "1/model.onnx": digest } }],
      promoted_by: "ci@build",
      promoted_at: "2026-11-24T10:00:00.000Z",
    },
  ],
};

const parse = (value: unknown) => parseManifest(JSON.stringify(value), "s3://b/m/promotion.json", "m");
const changed = (edit: (copy: typeof valid) => void) => {
  const copy = structuredClone(valid);
  edit(copy);
  return () => parse(copy);
};

describe("parseManifest", () => {
  it("accepts a canary manifest with validation and history", () => {
    const manifest = parse(valid);
    expect(manifest.serving.map((entry) => [entry.version, entry.weight])).toEqual([
      ["1", 90],
      ["2", 10],
    ]);
    expect(manifest.serving[1]?.validation).toEqual({ max_latency_ms: 50, device: "gpu" });
    expect(manifest.history[0]?.revision).toBe(1);
  });

  it("names the source and the field path of what is wrong", () => {
    expect(() => parseManifest("{", "s3://b/m/promotion.json", "m")).toThrow(
      "repository: s3://b/m/promotion.json: not valid JSON",
    );
    expect(changed((copy) => Object.assign(copy, { schema: "v0" }))).toThrow(
      's3://b/m/promotion.json: schema: must be "ferry.promotion/v1"',
    );
    expect(changed((copy) => Object.assign(copy, { model: "other" }))).toThrow('model: must be "m"');
    expect(changed((copy) => Object.assign(copy, { extra: 1 }))).toThrow("extra: unknown field");
    expect(changed((copy) => Object.assign(copy, { revision: 0 }))).toThrow(
      "revision: must be a positive integer",
    );
    expect(changed((copy) => Object.assign(copy, { promoted_at: "yesterday" }))).toThrow(
      "promoted_at: must be an ISO 8601 timestamp",
    );
  });

  it("checks weights, versions and pinned files", () => {
    expect(changed((copy) => Object.assign(copy.serving[0] as object, { weight: 80 }))).toThrow(
      "serving: weights add up to 90, not 100",
    );
    expect(changed((copy) => copy.serving.push(structuredClone(valid.serving[0]) as never))).toThrow(
      "serving: names a version twice",
    );
    expect(changed((copy) => Object.assign(copy.serving[0] as object, { version: "01" }))).toThrow(
      "serving[0].version: must be a version directory name",
    );
    expect(changed((copy) => Object.assign(copy, { serving: [] }))).toThrow(
      "serving: must name at least one version",
    );
    expect(
      changed((copy) => Object.assign(copy.serving[0]?.files ?? {}, { "1/../../etc/passwd": digest })),
    ).toThrow("must be a path inside the model directory");
    expect(
      changed((copy) => Object.assign(copy.serving[0]?.files ?? {}, { "2/model.onnx": digest })),
    ).toThrow("serving[0].files['2/model.onnx']: belongs to another version than 1");
    expect(
      changed((copy) =>
        Object.assign(copy.serving[0]?.files ?? {}, { "1/model.onnx": { sha256: "XY", size: 1 } }),
      ),
    ).toThrow("serving[0].files['1/model.onnx'].sha256: must be 64 lowercase hex characters");
    expect(
      changed((copy) =>
        Object.assign(copy.serving[0]?.files ?? {}, { "config.pbtxt": { sha256: "b".repeat(64), size: 3 } }),
      ),
    ).toThrow("versions pin different contents for the model-level file 'config.pbtxt'");
    expect(
      changed((copy) => Object.assign(copy.serving[1] as object, { files: { "config.pbtxt": digest } })),
    ).toThrow("serving[1].files: lists no file of version 2");
  });

  it("checks validation and history entries", () => {
    expect(
      changed((copy) => Object.assign(copy.serving[1] as object, { validation: { device: "tpu" } })),
    ).toThrow('serving[1].validation.device: must be "cpu" or "gpu"');
    expect(
      changed((copy) => Object.assign(copy.serving[1] as object, { validation: { max_latency_ms: -1 } })),
    ).toThrow("serving[1].validation.max_latency_ms: must be a positive number");
    expect(changed((copy) => Object.assign(copy.history[0] as object, { revision: "1" }))).toThrow(
      "history[0].revision: must be a positive integer",
    );
  });
});
