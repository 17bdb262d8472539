import type { InferResponse, Scalar } from "../../core/request.ts";
import { encodeTensorBytes } from "../../core/wire-bytes.ts";
import { writeTensorData } from "./json-data.ts";
import { JsonWriter } from "./json-writer.ts";

/**
 * An InferResponse as a v2 body, written as UTF-8 into one buffer. Outputs
 * flagged binary travel as raw chunks after the JSON header (binary tensor
 * data extension), with `binary_data_size` in their parameters; the others
 * carry JSON `data`, printed in place. Key order follows tritonserver's: id,
 * model_name, model_version, parameters, outputs.
 */
export function encodeInferResponse(
  response: InferResponse,
  binaryOutput: (name: string) => boolean,
): { body: Uint8Array; headerLength?: number } {
  const out = new JsonWriter();
  let head = "{";
  if (response.id) head += `"id":${JSON.stringify(response.id)},`;
  head += `"model_name":${JSON.stringify(response.model)},"model_version":${JSON.stringify(response.version)},`;
  if (response.parameters && Object.keys(response.parameters).length > 0) {
    head += `"parameters":${parametersJson(response.parameters)},`;
  }
  out.text(`${head}"outputs":[`);
  const chunks: Uint8Array[] = [];
  response.outputs.forEach((tensor, index) => {
    let json = `${index > 0 ? "," : ""}{"name":${JSON.stringify(tensor.name)},"datatype":"${tensor.datatype}","shape":[${tensor.shape.join(",")}]`;
    if (binaryOutput(tensor.name)) {
      const bytes = encodeTensorBytes(tensor);
      chunks.push(bytes);
      out.text(`${json},"parameters":${parametersJson({ binary_data_size: bytes.byteLength })}}`);
      return;
    }
    json += `,"data":`;
    out.text(json);
    writeTensorData(out, tensor.datatype, tensor.data);
    out.text("}");
  });
  out.text("]}");
  if (chunks.length === 0) return { body: out.finish() };
  const headerLength = out.length;
  for (const chunk of chunks) out.append(chunk);
  return { body: out.finish(), headerLength };
}

function parametersJson(parameters: Record<string, Scalar>): string {
  return JSON.stringify(parameters, (_key, value) => (typeof value === "bigint" ? Number(value) : value));
}
