import { create, fromBinary, mergeFromBinary } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { InferResponse } from "../../core/request.ts";
import { encodeTensorBytes } from "../../core/wire-bytes.ts";
import {
  type InferParameter,
  InferParameterSchema,
  InferTensorContentsSchema,
  type ModelInferRequest_InferInputTensor as InputTensor,
  type ModelInferRequest,
  type ModelInferRequest_InferRequestedOutputTensor as RequestedOutput,
} from "../../gen/grpc_service_pb.ts";
import { checkRequestIdLength } from "../request-id.ts";

/*
 * ModelInferRequest and ModelInferResponse by hand on protobuf-es's wire
 * reader and writer: its reflective fromBinary/toBinary cost as much per
 * call as the HTTP/2 layer. Same results as fromBinary and
 * toBinary(encodeInferResponse(...)) (tests/protocol/grpc/infer-wire.test.ts);
 * the rare nested messages (parameters, typed contents) still go through
 * fromBinary.
 */

const LENGTH_DELIMITED = WireType.LengthDelimited;

/** What fromBinary(ModelInferRequestSchema, bytes) returns, less unknown fields; bytes stay views of `bytes`. */
export function readInferRequest(bytes: Uint8Array): ModelInferRequest {
  const reader = new BinaryReader(bytes);
  const message: ModelInferRequest = {
    $typeName: "inference.ModelInferRequest",
    modelName: "",
    modelVersion: "",
    id: "",
    parameters: {},
    inputs: [],
    outputs: [],
    rawInputContents: [],
  };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) message.modelName = reader.string(true);
    else if (field === 2) message.modelVersion = reader.string(true);
    else if (field === 3) message.id = readId(reader);
    else if (field === 4) readParameter(reader.bytes(), message.parameters);
    else if (field === 5) message.inputs.push(readInput(reader.bytes()));
    else if (field === 6) message.outputs.push(readOutput(reader.bytes()));
    else if (field === 7) message.rawInputContents.push(reader.bytes());
    else reader.skip(wireType, field);
  }
  return message;
}

/** The `id` string, refused by its length prefix before it is decoded (a 200 MB id would be a 200 MB string). */
function readId(reader: BinaryReader): string {
  const start = reader.pos;
  const length = reader.uint32();
  reader.pos = start;
  checkRequestIdLength(length);
  return reader.string(true);
}

function readInput(bytes: Uint8Array): InputTensor {
  const reader = new BinaryReader(bytes);
  const input: InputTensor = {
    $typeName: "inference.ModelInferRequest.InferInputTensor",
    name: "",
    datatype: "",
    shape: [],
    parameters: {},
  };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) input.name = reader.string(true);
    else if (field === 2) input.datatype = reader.string(true);
    else if (field === 3 && wireType === LENGTH_DELIMITED) {
      const end = reader.uint32() + reader.pos;
      while (reader.pos < end) input.shape.push(reader.int64() as bigint);
    } else if (field === 3) input.shape.push(reader.int64() as bigint);
    else if (field === 4) readParameter(reader.bytes(), input.parameters);
    else if (field === 5)
      input.contents = input.contents
        ? mergeFromBinary(InferTensorContentsSchema, input.contents, reader.bytes())
        : fromBinary(InferTensorContentsSchema, reader.bytes());
    else reader.skip(wireType, field);
  }
  return input;
}

function readOutput(bytes: Uint8Array): RequestedOutput {
  const reader = new BinaryReader(bytes);
  const output: RequestedOutput = {
    $typeName: "inference.ModelInferRequest.InferRequestedOutputTensor",
    name: "",
    parameters: {},
  };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) output.name = reader.string(true);
    else if (field === 2) readParameter(reader.bytes(), output.parameters);
    else reader.skip(wireType, field);
  }
  return output;
}

/** One map<string, InferParameter> entry: key 1, value 2; either may be missing. */
function readParameter(bytes: Uint8Array, into: Record<string, InferParameter>): void {
  const reader = new BinaryReader(bytes);
  let key = "";
  let value: InferParameter | undefined;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) key = reader.string(true);
    else if (field === 2) value = fromBinary(InferParameterSchema, reader.bytes());
    else reader.skip(wireType, field);
  }
  into[key] = value ?? create(InferParameterSchema);
}

/**
 * The bytes of toBinary(ModelInferResponseSchema, encodeInferResponse(response)),
 * after `reserve` zero bytes (room for a gRPC message prefix, so the answer
 * is never copied into a frame).
 */
export function writeInferResponse(response: InferResponse, reserve = 0): Uint8Array {
  const writer = new BinaryWriter();
  if (reserve > 0) writer.raw(new Uint8Array(reserve));
  if (response.model) writer.tag(1, LENGTH_DELIMITED).string(response.model);
  if (response.version) writer.tag(2, LENGTH_DELIMITED).string(response.version);
  if (response.id) writer.tag(3, LENGTH_DELIMITED).string(response.id);
  for (const tensor of response.outputs) {
    writer.tag(5, LENGTH_DELIMITED).fork();
    if (tensor.name) writer.tag(1, LENGTH_DELIMITED).string(tensor.name);
    if (tensor.datatype) writer.tag(2, LENGTH_DELIMITED).string(tensor.datatype);
    if (tensor.shape.length > 0) {
      writer.tag(3, LENGTH_DELIMITED).fork();
      for (const dim of tensor.shape) writer.int64(dim);
      writer.join();
    }
    writer.join();
  }
  for (const tensor of response.outputs) writer.tag(6, LENGTH_DELIMITED).bytes(encodeTensorBytes(tensor));
  return writer.finish();
}
