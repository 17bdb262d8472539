import type { RequestShape } from "./load.ts";

/**
 * Bun's fetch offers gzip unless told otherwise, and the server would then
 * compress every answer; perf_analyzer and tritonclient do not ask for it.
 */
const PLAIN = { "accept-encoding": "identity" };

/** A v2 infer request for one FP32 input, as JSON or with the binary tensor data extension. */
export function fp32Request(
  name: string,
  shape: number[],
  values: Float32Array,
  mode: "json" | "binary",
): RequestShape {
  if (mode === "json") {
    return {
      body: JSON.stringify({ inputs: [{ name, shape, datatype: "FP32", data: Array.from(values) }] }),
      headers: { "content-type": "application/json", ...PLAIN },
    };
  }
  const header = new TextEncoder().encode(
    JSON.stringify({
      inputs: [{ name, shape, datatype: "FP32", parameters: { binary_data_size: values.byteLength } }],
      parameters: { binary_data_output: true },
    }),
  );
  const body = new Uint8Array(header.byteLength + values.byteLength);
  body.set(header);
  body.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), header.byteLength);
  return {
    body,
    headers: {
      "content-type": "application/octet-stream",
      "inference-header-content-length": String(header.byteLength),
      ...PLAIN,
    },
  };
}

export function randomValues(count: number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = Math.random() * 2 - 1;
  return values;
}
