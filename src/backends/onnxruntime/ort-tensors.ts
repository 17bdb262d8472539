import type { DataType } from "../../core/datatype.ts";
import { FerryError } from "../../core/errors.ts";
import type { Tensor, TensorData } from "../../core/tensor.ts";
import { ort } from "./ort-runtime.ts";

/** ONNX Runtime's tensor type names for the v2 datatypes it can exchange with JS (no BF16). */
const ORT_TYPE: Partial<Record<DataType, ort.Tensor.Type>> = {
  BOOL: "bool",
  UINT8: "uint8",
  UINT16: "uint16",
  UINT32: "uint32",
  UINT64: "uint64",
  INT8: "int8",
  INT16: "int16",
  INT32: "int32",
  INT64: "int64",
  FP16: "float16",
  FP32: "float32",
  FP64: "float64",
  BYTES: "string",
};

const FROM_ORT_TYPE = new Map<string, DataType>(
  Object.entries(ORT_TYPE).map(([datatype, ortType]) => [ortType as string, datatype as DataType]),
);

export function ortTypeOf(datatype: DataType): ort.Tensor.Type | undefined {
  return ORT_TYPE[datatype];
}

export function dataTypeOfOrt(ortType: string): DataType | undefined {
  return FROM_ORT_TYPE.get(ortType);
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

export function toOrtTensor(tensor: Tensor): ort.Tensor {
  const type = ORT_TYPE[tensor.datatype];
  if (!type) {
    throw new FerryError("INVALID_ARGUMENT", "backend", `onnxruntime cannot take ${tensor.datatype} tensors`);
  }
  const data = tensor.data;
  const ortData = Array.isArray(data)
    ? data.map((element, at) => bytesToOrtString(tensor.name, element, at))
    : data;
  return new ort.Tensor(type, ortData as ort.Tensor.DataType, tensor.shape);
}

/**
 * onnxruntime-node carries string tensors as JS strings and cuts them at
 * NUL, so BYTES elements must be UTF-8 without NUL; anything else is refused
 * rather than silently changed.
 */
function bytesToOrtString(name: string, element: Uint8Array, at: number): string {
  if (element.includes(0)) {
    throw new FerryError(
      "INVALID_ARGUMENT",
      "backend",
      `input '${name}' element ${at} contains a NUL byte, which onnxruntime string tensors cannot hold`,
    );
  }
  try {
    return utf8Decoder.decode(element);
  } catch {
    throw new FerryError(
      "INVALID_ARGUMENT",
      "backend",
      `input '${name}' element ${at} is not valid UTF-8, which onnxruntime string tensors need`,
    );
  }
}

export function fromOrtTensor(name: string, value: ort.Tensor): Tensor {
  const datatype = FROM_ORT_TYPE.get(value.type);
  if (!datatype) {
    throw new FerryError(
      "INTERNAL",
      "backend",
      `output '${name}' has type ${value.type}, which ferry cannot return`,
    );
  }
  const raw = value.data;
  let data: TensorData;
  if (datatype === "BYTES") {
    data = (raw as string[]).map((element) => utf8Encoder.encode(element));
  } else if (datatype === "FP16" && !(raw instanceof Uint16Array)) {
    // Defensive: should Float16Array ever come back, keep the raw bit patterns.
    const typed = raw as unknown as ArrayBufferView & { length: number };
    data = new Uint16Array(typed.buffer, typed.byteOffset, typed.length);
  } else {
    data = raw as TensorData;
  }
  return { name, datatype, shape: value.dims.map(Number), data };
}
