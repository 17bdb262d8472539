/**
 * Regenerates the small ONNX files of this repository:
 *   bun models/generate.ts
 * Not needed by `npm start` or `npm test`: the files are committed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { accumulatorModel, addSubModel, identityModel } from "../tests/support/onnx-builder.ts";

const here = import.meta.dir;
const models: Record<string, Uint8Array> = {
  "simple/1/model.onnx": addSubModel("INT32", ["batch", 16]),
  "identity_fp32/1/model.onnx": identityModel("FP32", ["batch", "n"]),
  "identity_bytes/1/model.onnx": identityModel("BYTES", ["batch", "n"]),
  "accumulator/1/model.onnx": accumulatorModel(),
};
for (const [path, bytes] of Object.entries(models)) {
  const target = join(here, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, bytes);
  console.log(`wrote ${path} (${bytes.byteLength} bytes)`);
}
