import type { InferResponse, Scalar } from "../../core/request.ts";
import type { StageClock } from "../../core/stage-clock.ts";
import type { Tensor } from "../../core/tensor.ts";
import { encodeTensorBytes } from "../../core/wire-bytes.ts";
import { tensorDataToJson } from "./json-data.ts";

const utf8 = new TextEncoder();

/**
 * An InferResponse as a v2 body. Outputs flagged binary travel as raw chunks
 * after the JSON header (binary tensor data extension), with
 * `binary_data_size` in their parameters; the others carry JSON `data`.
 * Key order follows tritonserver's: id, model_name, model_version, parameters, outputs.
 */
export function encodeInferResponse(
  response: InferResponse,
  binaryOutput: (name: string) => boolean,
): { body: Uint8Array | string; headerLength?: number } {
  const chunks: Uint8Array[] = [];
  const outputs = response.outputs.map((tensor) => {
    if (!binaryOutput(tensor.name))
      return outputJson(tensor, undefined, tensorDataToJson(tensor.datatype, tensor.data));
    const bytes = encodeTensorBytes(tensor);
    chunks.push(bytes);
    return outputJson(tensor, { binary_data_size: bytes.byteLength }, undefined);
  });
  let json = "{";
  if (response.id) json += `"id":${JSON.stringify(response.id)},`;
  json += `"model_name":${JSON.stringify(response.model)},"model_version":${JSON.stringify(response.version)},`;
  if (response.parameters && Object.keys(response.parameters).length > 0) {
    json += `"parameters":${parametersJson(response.parameters)},`;
  }
  json += `"outputs":[${outputs.join(",")}]}`;
  if (chunks.length === 0) return { body: json };
  const header = utf8.encode(json);
  const body = new Uint8Array(header.byteLength + chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  body.set(header, 0);
  let offset = header.byteLength;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { body, headerLength: header.byteLength };
}

function outputJson(
  tensor: Tensor,
  parameters: Record<string, Scalar> | undefined,
  data: string | undefined,
): string {
  let json = `{"name":${JSON.stringify(tensor.name)},"datatype":"${tensor.datatype}","shape":[${tensor.shape.join(",")}]`;
  if (parameters) json += `,"parameters":${parametersJson(parameters)}`;
  if (data !== undefined) json += `,"data":${data}`;
  return `${json}}`;
}

function parametersJson(parameters: Record<string, Scalar>): string {
  return JSON.stringify(parameters, (_key, value) => (typeof value === "bigint" ? Number(value) : value));
}

/** `Server-Timing` entries (ms) for the stages a request went through. */
export function serverTiming(clock: StageClock): string {
  const us = clock.durationsUs();
  const ms = (value: number) => (value / 1000).toFixed(3);
  return `queue;dur=${ms(us.queue)}, compute_input;dur=${ms(us.computeInput)}, compute_infer;dur=${ms(us.computeInfer)}, compute_output;dur=${ms(us.computeOutput)}`;
}
