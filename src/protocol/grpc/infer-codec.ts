import { create } from "@bufbuild/protobuf";
import { isDataType } from "../../core/datatype.ts";
import { invalidArgument } from "../../core/errors.ts";
import type { InferRequest, InferResponse, RequestedOutput } from "../../core/request.ts";
import { StageClock } from "../../core/stage-clock.ts";
import { elementCount, type Tensor } from "../../core/tensor.ts";
import { decodeTensorBytes, encodeTensorBytes } from "../../core/wire-bytes.ts";
import {
  type InferParameter,
  type ModelInferRequest,
  type ModelInferResponse,
  ModelInferResponseSchema,
} from "../../gen/grpc_service_pb.ts";
import { checkRequestIdLength } from "../request-id.ts";
import { applyReservedParameters } from "../request-parameters.ts";
import { contentsToData } from "./contents.ts";
import { scalarsOf } from "./parameters.ts";

/**
 * A ModelInferRequest as the core's InferRequest. Inputs carry data either
 * in typed `contents` or, in order, in `raw_input_contents` (which become
 * typed-array views of the message bytes where alignment allows); a request
 * may not mix the two.
 */
export function decodeInferRequest(message: ModelInferRequest, signal: AbortSignal): InferRequest {
  const raw = message.rawInputContents;
  if (raw.length > 0 && message.inputs.some((input) => input.contents !== undefined)) {
    throw invalidArgument("protocol", "a request may not mix 'contents' and 'raw_input_contents'");
  }
  let next = 0;
  const inputs: Tensor[] = message.inputs.map((input) => {
    const where = `input '${input.name}'`;
    if (!isDataType(input.datatype))
      throw invalidArgument("protocol", `${where}: unknown datatype '${input.datatype}'`);
    if (input.shape.some((dim) => dim < 0n)) {
      throw invalidArgument(
        "protocol",
        `${where}: shape [${input.shape.join(",")}] has a negative dimension`,
      );
    }
    if (input.parameters.shared_memory_region)
      throw invalidArgument("protocol", `${where}: shared memory is not supported by this server`);
    const shape = input.shape.map(Number);
    const { datatype } = input;
    if (input.contents) {
      return {
        name: input.name,
        datatype,
        shape,
        data: contentsToData(datatype, elementCount(shape), input.contents, where),
      };
    }
    const bytes = raw[next++];
    if (!bytes)
      throw invalidArgument(
        "protocol",
        `${where} has no data: neither 'contents' nor raw_input_contents[${next - 1}]`,
      );
    return { name: input.name, datatype, shape, data: decodeTensorBytes(datatype, shape, bytes, where) };
  });
  if (next < raw.length) {
    throw invalidArgument(
      "protocol",
      `raw_input_contents has ${raw.length} entries but only ${next} inputs take raw data`,
    );
  }
  const request: InferRequest = {
    model: message.modelName,
    inputs,
    parameters: scalarsOf(message.parameters, "request"),
    signal,
    timing: new StageClock(),
  };
  if (message.modelVersion) request.version = message.modelVersion;
  if (message.id) {
    // Messages decoded by connect (Connect, gRPC-web, streaming) arrive here with the id already a string.
    checkRequestIdLength(Buffer.byteLength(message.id));
    request.id = message.id;
  }
  if (message.outputs.length > 0) request.outputs = message.outputs.map(decodeRequestedOutput);
  applyReservedParameters(request);
  return request;
}

function decodeRequestedOutput(output: ModelInferRequest["outputs"][number]): RequestedOutput {
  const where = `output '${output.name}'`;
  const parameters = scalarsOf(output.parameters, where);
  if (output.parameters.shared_memory_region)
    throw invalidArgument("protocol", `${where}: shared memory is not supported by this server`);
  const requested: RequestedOutput = { name: output.name, parameters };
  const classification = parameters.classification;
  if (classification !== undefined) {
    const count = Number(classification);
    if (!Number.isSafeInteger(count) || count < 1)
      throw invalidArgument("protocol", `${where}: classification must be a positive integer`);
    requested.classification = count;
  }
  return requested;
}

/** An InferResponse as Triton sends it: every output in raw_output_contents, none in contents. */
export function encodeInferResponse(
  response: InferResponse,
  parameters: Record<string, InferParameter> = {},
): ModelInferResponse {
  return create(ModelInferResponseSchema, {
    modelName: response.model,
    modelVersion: response.version,
    id: response.id ?? "",
    parameters,
    outputs: response.outputs.map((tensor) => ({
      name: tensor.name,
      datatype: tensor.datatype,
      shape: tensor.shape.map(BigInt),
    })),
    rawOutputContents: response.outputs.map(encodeTensorBytes),
  });
}
