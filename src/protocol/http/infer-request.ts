import type { ModelInterface } from "../../config/model-interface.ts";
import { type DataType, elementByteSize, isDataType } from "../../core/datatype.ts";
import { FerryError, invalidArgument } from "../../core/errors.ts";
import type { InferRequest, RequestedOutput, Scalar } from "../../core/request.ts";
import { StageClock } from "../../core/stage-clock.ts";
import { elementCount, type Tensor } from "../../core/tensor.ts";
import { decodeTensorBytes } from "../../core/wire-bytes.ts";
import { checkRequestIdLength } from "../request-id.ts";
import { applyReservedParameters } from "../request-parameters.ts";
import { jsonToTensorData } from "./json-data.ts";
import { OFF_LOOP_JSON_BYTES, parseJsonOffLoop } from "./json-off-loop.ts";

export const HEADER_LENGTH = "inference-header-content-length";

/** An InferRequest plus what only the HTTP encoder needs: which outputs go back as binary. */
export interface HttpInferRequest {
  request: InferRequest;
  binaryOutputs: (name: string) => boolean;
}

export interface DecodeTarget {
  model: string;
  version?: string;
  signal: AbortSignal;
  /** Needed only for a raw binary body (Inference-Header-Content-Length: 0). */
  modelInterface: () => ModelInterface;
  /** --http-max-json-bytes and --http-max-json-elements: what JSON.parse may be given (defaults below). */
  maxJsonBytes?: number;
  maxJsonElements?: number;
}

/**
 * JSON.parse runs on the event loop, in one piece: these keep one request's
 * parse near 50 ms on a 2-vCPU host (8 MiB of 7-digit floats: ~55 ms; 1 Mi
 * zeros: ~25 ms; 512 Ki nested [0]: ~45 ms), so health probes stay answered.
 */
export const DEFAULT_MAX_JSON_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_JSON_ELEMENTS = 1024 * 1024;
export const USE_BINARY =
  "; send large tensors as binary data (binary_data_size, Inference-Header-Content-Length)";

/**
 * decodeInferRequest with a large JSON part (OFF_LOOP_JSON_BYTES and up)
 * parsed in a worker, so health probes and other requests are not held up.
 */
export async function decodeInferRequestOffLoop(
  body: Uint8Array,
  headerLength: string | null,
  target: DecodeTarget,
): Promise<HttpInferRequest> {
  const jsonLength = parseHeaderLength(headerLength, body.byteLength);
  const json = jsonLength === 0 ? undefined : jsonLength === undefined ? body : body.subarray(0, jsonLength);
  if (!json || json.byteLength < OFF_LOOP_JSON_BYTES) return decodeInferRequest(body, headerLength, target);
  checkJsonSize(json, target);
  return decodeInferRequest(body, headerLength, target, await parseJsonOffLoop(json));
}

/**
 * A v2 infer body — JSON, or JSON header + binary chunks (binary tensor data
 * extension), or a raw binary body for a single-input model — to an
 * InferRequest. Binary chunks become typed-array views of the body.
 */
export function decodeInferRequest(
  body: Uint8Array,
  headerLength: string | null,
  target: DecodeTarget,
  /** The JSON part, already parsed (and size-checked) off the event loop. */
  parsed?: unknown,
): HttpInferRequest {
  const timing = new StageClock();
  const jsonLength = parseHeaderLength(headerLength, body.byteLength);
  if (jsonLength === 0) return decodeRawBinary(body, target, timing);
  const json = jsonLength === undefined ? body : body.subarray(0, jsonLength);
  let header = parsed;
  if (header === undefined) {
    checkJsonSize(json, target);
    header = parseJson(json);
  }
  const binary = jsonLength === undefined ? new Uint8Array(0) : body.subarray(jsonLength);

  const fields = asObject(header, "request body");
  const parameters = scalarMap(fields.parameters, "request 'parameters'");
  const request: InferRequest = {
    model: target.model,
    inputs: decodeInputs(fields.inputs, binary),
    parameters,
    signal: target.signal,
    timing,
  };
  if (target.version !== undefined) request.version = target.version;
  if (fields.id !== undefined) {
    if (typeof fields.id !== "string") throw invalidArgument("protocol", "request 'id' must be a string");
    checkRequestIdLength(Buffer.byteLength(fields.id));
    if (fields.id !== "") request.id = fields.id;
  }
  const { outputs, binaryByName } = decodeOutputs(fields.outputs);
  if (outputs) request.outputs = outputs;
  const binaryDefault = parameters.binary_data_output;
  if (binaryDefault !== undefined && typeof binaryDefault !== "boolean") {
    throw invalidArgument("protocol", "parameter 'binary_data_output' must be a boolean");
  }
  delete parameters.binary_data_output;
  applyReservedParameters(request);
  return { request, binaryOutputs: (name) => binaryByName.get(name) ?? binaryDefault ?? false };
}

function parseHeaderLength(value: string | null, bodyLength: number): number | undefined {
  if (value === null) return undefined;
  if (!/^[0-9]+$/.test(value.trim())) {
    throw invalidArgument(
      "protocol",
      `Inference-Header-Content-Length must be a non-negative integer, got '${value}'`,
    );
  }
  const length = Number(value);
  if (length > bodyLength) {
    throw invalidArgument(
      "protocol",
      `Inference-Header-Content-Length ${length} is larger than the body (${bodyLength} bytes)`,
    );
  }
  return length;
}

const utf8 = new TextDecoder();

/** Refuses JSON that would hold the event loop too long, before parsing it. */
function checkJsonSize(json: Uint8Array, target: DecodeTarget): void {
  const { maxJsonBytes = DEFAULT_MAX_JSON_BYTES, maxJsonElements = DEFAULT_MAX_JSON_ELEMENTS } = target;
  if (json.byteLength > maxJsonBytes) {
    throw new FerryError(
      "RESOURCE_EXHAUSTED",
      "protocol",
      `JSON part of the request is ${json.byteLength} bytes, over the limit of ${maxJsonBytes} bytes (--http-max-json-bytes)${USE_BINARY}`,
    );
  }
  // Every value but the first of an array or object follows a ',', every array opens with '[':
  // counting both outside strings bounds the values JSON.parse would build. A body of
  // n bytes holds at most n of them, so small bodies skip the scan.
  if (json.byteLength <= maxJsonElements) return;
  let values = 0;
  let inString = false;
  for (let at = 0; at < json.length; at++) {
    const byte = json[at];
    if (inString) {
      if (byte === 0x5c) at++;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x2c || byte === 0x5b) values++;
  }
  if (values > maxJsonElements) {
    throw new FerryError(
      "RESOURCE_EXHAUSTED",
      "protocol",
      `JSON part of the request holds about ${values} values, over the limit of ${maxJsonElements} (--http-max-json-elements)${USE_BINARY}`,
    );
  }
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch (error) {
    throw invalidArgument("protocol", `malformed JSON in request body: ${(error as Error).message}`);
  }
}

function decodeInputs(value: unknown, binary: Uint8Array): Tensor[] {
  if (!Array.isArray(value)) throw invalidArgument("protocol", "request 'inputs' must be an array");
  let offset = 0;
  const inputs = value.map((item, index) => {
    const input = asObject(item, `inputs[${index}]`);
    if (typeof input.name !== "string")
      throw invalidArgument("protocol", `inputs[${index}].name must be a string`);
    const where = `input '${input.name}'`;
    const datatype = input.datatype;
    if (!isDataType(datatype))
      throw invalidArgument("protocol", `${where}: unknown datatype ${JSON.stringify(datatype)}`);
    const shape = decodeShape(input.shape, where);
    const parameters = scalarMap(input.parameters, `${where} parameters`);
    if (parameters.shared_memory_region !== undefined) {
      throw invalidArgument("protocol", `${where}: shared memory is not supported by this server`);
    }
    const size = parameters.binary_data_size;
    if (size !== undefined) {
      if (input.data !== undefined)
        throw invalidArgument("protocol", `${where}: has both 'data' and 'binary_data_size'`);
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
        throw invalidArgument("protocol", `${where}: binary_data_size must be a non-negative integer`);
      }
      if (offset + size > binary.byteLength) {
        throw invalidArgument(
          "protocol",
          `${where}: binary_data_size ${size} runs past the end of the body (${binary.byteLength - offset} binary bytes left)`,
        );
      }
      const bytes = binary.subarray(offset, offset + size);
      offset += size;
      return { name: input.name, datatype, shape, data: decodeTensorBytes(datatype, shape, bytes, where) };
    }
    if (input.data === undefined)
      throw invalidArgument("protocol", `${where}: has neither 'data' nor 'binary_data_size'`);
    return {
      name: input.name,
      datatype,
      shape,
      data: jsonToTensorData(datatype, elementCount(shape), input.data, where),
    };
  });
  if (offset !== binary.byteLength) {
    throw invalidArgument(
      "protocol",
      `body has ${binary.byteLength} bytes of binary data but the inputs' binary_data_size add up to ${offset}`,
    );
  }
  return inputs;
}

function decodeShape(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || !value.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw invalidArgument(
      "protocol",
      `${where}: 'shape' must be an array of non-negative integers, got ${JSON.stringify(value)}`,
    );
  }
  return value as number[];
}

function decodeOutputs(value: unknown): { outputs?: RequestedOutput[]; binaryByName: Map<string, boolean> } {
  const binaryByName = new Map<string, boolean>();
  if (value === undefined) return { binaryByName };
  if (!Array.isArray(value)) throw invalidArgument("protocol", "request 'outputs' must be an array");
  const outputs = value.map((item, index) => {
    const output = asObject(item, `outputs[${index}]`);
    if (typeof output.name !== "string")
      throw invalidArgument("protocol", `outputs[${index}].name must be a string`);
    const where = `output '${output.name}'`;
    const parameters = scalarMap(output.parameters, `${where} parameters`);
    if (parameters.shared_memory_region !== undefined) {
      throw invalidArgument("protocol", `${where}: shared memory is not supported by this server`);
    }
    const requested: RequestedOutput = { name: output.name, parameters };
    const binary = parameters.binary_data;
    if (binary !== undefined) {
      if (typeof binary !== "boolean")
        throw invalidArgument("protocol", `${where}: binary_data must be a boolean`);
      binaryByName.set(output.name, binary);
    }
    const classification = parameters.classification;
    if (classification !== undefined) {
      if (typeof classification !== "number" || !Number.isSafeInteger(classification) || classification < 1) {
        throw invalidArgument("protocol", `${where}: classification must be a positive integer`);
      }
      requested.classification = classification;
    }
    return requested;
  });
  return { outputs, binaryByName };
}

/** Inference-Header-Content-Length: 0 — the whole body is the data of the model's only input. */
function decodeRawBinary(body: Uint8Array, target: DecodeTarget, timing: StageClock): HttpInferRequest {
  const model = target.modelInterface();
  const spec = model.inputs[0];
  if (!spec || model.inputs.length !== 1) {
    throw invalidArgument(
      "protocol",
      `a raw binary request needs a model with exactly one input; '${model.name}' has ${model.inputs.length}`,
    );
  }
  const shape = rawShape(spec.datatype, spec.dims, body.byteLength, spec.name);
  const fullShape = model.maxBatchSize > 0 ? [1, ...shape] : shape;
  const where = `input '${spec.name}'`;
  const request: InferRequest = {
    model: target.model,
    inputs: [
      {
        name: spec.name,
        datatype: spec.datatype,
        shape: fullShape,
        data: decodeTensorBytes(spec.datatype, fullShape, body, where),
      },
    ],
    parameters: {},
    signal: target.signal,
    timing,
  };
  if (target.version !== undefined) request.version = target.version;
  return { request, binaryOutputs: () => true };
}

function rawShape(datatype: DataType, dims: number[], byteLength: number, name: string): number[] {
  if (datatype === "BYTES") {
    if (dims.length !== 1 || (dims[0] !== 1 && dims[0] !== -1)) {
      throw invalidArgument("protocol", `raw binary BYTES input '${name}' must have shape [1]`);
    }
    return [1];
  }
  const variable = dims.filter((dim) => dim === -1).length;
  if (variable > 1)
    throw invalidArgument("protocol", `raw binary input '${name}' has more than one variable dimension`);
  const size = elementByteSize(datatype) as number;
  const fixed = dims.filter((dim) => dim !== -1).reduce((product, dim) => product * dim, 1) * size;
  if (variable === 0 || fixed === 0) return dims;
  if (byteLength % fixed !== 0) {
    throw invalidArgument(
      "protocol",
      `raw binary body of ${byteLength} bytes does not fit input '${name}' of dims [${dims.join(",")}]`,
    );
  }
  return dims.map((dim) => (dim === -1 ? byteLength / fixed : dim));
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidArgument("protocol", `${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function scalarMap(value: unknown, what: string): Record<string, Scalar> {
  if (value === undefined) return {};
  const map = asObject(value, what);
  for (const [key, item] of Object.entries(map)) {
    if (typeof item !== "string" && typeof item !== "number" && typeof item !== "boolean") {
      throw invalidArgument("protocol", `${what}: '${key}' must be a string, number or boolean`);
    }
  }
  return map as Record<string, Scalar>;
}
