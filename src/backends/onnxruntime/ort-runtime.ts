/**
 * The single import point of onnxruntime-node. Bun provides Float16Array,
 * which onnxruntime-common then uses for float16 tensors, but the native
 * binding cannot read a Float16Array under Bun ("not enough space"). The
 * typed-array table is chosen lazily on the first Tensor construction, so
 * constructing one while Float16Array is hidden makes float16 use raw
 * Uint16Array bit patterns, which is what ferry carries for FP16 anyway.
 */
import * as ort from "onnxruntime-node";

const float16 = Object.getOwnPropertyDescriptor(globalThis, "Float16Array");
if (float16?.configurable) {
  Reflect.deleteProperty(globalThis, "Float16Array");
  try {
    new ort.Tensor("float32", new Float32Array(1), [1]);
  } finally {
    Object.defineProperty(globalThis, "Float16Array", float16);
  }
}

export { ort };
