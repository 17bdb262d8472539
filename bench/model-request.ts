import { arrayTypeOf, type DataType, isBigIntType } from "../src/core/datatype.ts";
import type { RequestShape } from "./load.ts";

export interface InputMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/**
 * A request for any model from its metadata, as perf_analyzer builds one:
 * random data, batch dimension = `batchSize` when the model batches, other
 * -1 dims from `shapes` (name → dims) or 1. JSON or binary tensors.
 */
export function requestFromMetadata(
  inputs: InputMetadata[],
  options: {
    batchSize: number;
    batching: boolean;
    shapes: Map<string, number[]>;
    tensors: "binary" | "json";
  },
): RequestShape {
  const tensors = inputs.map((input) => {
    const dims = input.shape.slice(options.batching ? 1 : 0);
    const given = options.shapes.get(input.name);
    const resolved = given ?? dims.map((dim) => (dim < 0 ? 1 : dim));
    const shape = options.batching ? [options.batchSize, ...resolved] : resolved;
    return {
      name: input.name,
      datatype: input.datatype as DataType,
      shape,
      ...randomData(input.datatype as DataType, shape),
    };
  });
  if (options.tensors === "json") {
    const body = JSON.stringify({
      inputs: tensors.map(({ name, datatype, shape, json }) => ({ name, datatype, shape, data: json })),
    });
    return { body, headers: { "content-type": "application/json", "accept-encoding": "identity" } };
  }
  const header = new TextEncoder().encode(
    JSON.stringify({
      inputs: tensors.map(({ name, datatype, shape, bytes }) => ({
        name,
        datatype,
        shape,
        parameters: { binary_data_size: bytes.byteLength },
      })),
      parameters: { binary_data_output: true },
    }),
  );
  const parts = [header, ...tensors.map((tensor) => tensor.bytes)];
  const body = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.byteLength;
  }
  return {
    body,
    headers: {
      "content-type": "application/octet-stream",
      "inference-header-content-length": String(header.byteLength),
      "accept-encoding": "identity",
    },
  };
}

function randomData(datatype: DataType, shape: number[]): { json: unknown[]; bytes: Uint8Array } {
  const count = shape.reduce((product, dim) => product * dim, 1);
  if (datatype === "BYTES") {
    const json = Array.from({ length: count }, (_, i) => `s${i}`);
    const encoded = json.map((text) => new TextEncoder().encode(text));
    const bytes = new Uint8Array(encoded.reduce((sum, part) => sum + 4 + part.byteLength, 0));
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (const part of encoded) {
      view.setUint32(offset, part.byteLength, true);
      bytes.set(part, offset + 4);
      offset += 4 + part.byteLength;
    }
    return { json, bytes };
  }
  const array = new (arrayTypeOf(datatype))(count);
  const json: unknown[] = [];
  for (let i = 0; i < count; i++) {
    if (datatype === "BOOL") {
      array[i] = i % 2;
      json.push(i % 2 === 1);
    } else if (isBigIntType(datatype)) {
      array[i] = BigInt(i % 100) as never;
      json.push(i % 100);
    } else if (datatype.startsWith("FP") || datatype === "BF16") {
      const value = datatype === "FP32" || datatype === "FP64" ? Math.random() : 0;
      array[i] = value as never;
      json.push(value);
    } else {
      array[i] = (i % 100) as never;
      json.push(i % 100);
    }
  }
  return { json, bytes: new Uint8Array(array.buffer) };
}
