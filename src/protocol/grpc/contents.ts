import { arrayTypeOf, type DataType } from "../../core/datatype.ts";
import { invalidArgument } from "../../core/errors.ts";
import type { TensorData } from "../../core/tensor.ts";
import type { InferTensorContents } from "../../gen/grpc_service_pb.ts";

type Field = Exclude<keyof InferTensorContents, "$typeName" | "$unknown">;

/** The typed `contents` field each datatype travels in; FP16 and BF16 have none (raw only). */
const FIELD: Partial<Record<DataType, Field>> = {
  BOOL: "boolContents",
  INT8: "intContents",
  INT16: "intContents",
  INT32: "intContents",
  INT64: "int64Contents",
  UINT8: "uintContents",
  UINT16: "uintContents",
  UINT32: "uintContents",
  UINT64: "uint64Contents",
  FP32: "fp32Contents",
  FP64: "fp64Contents",
  BYTES: "bytesContents",
};

/** `InferTensorContents` of one input to TensorData, checking the field, count and ranges. */
export function contentsToData(
  datatype: DataType,
  count: number,
  contents: InferTensorContents,
  where: string,
): TensorData {
  const field = FIELD[datatype];
  if (!field)
    throw invalidArgument(
      "protocol",
      `${where}: ${datatype} has no typed contents field; send it in raw_input_contents`,
    );
  const values = contents[field] as unknown[];
  if (values.length !== count) {
    throw invalidArgument(
      "protocol",
      `${where}: ${values.length} values in ${protoName(field)}, shape needs ${count}`,
    );
  }
  if (datatype === "BYTES") return values as Uint8Array[];
  if (datatype === "BOOL") return Uint8Array.from(values as boolean[], (value) => (value ? 1 : 0));
  const out = new (arrayTypeOf(datatype))(count);
  const probe = new (arrayTypeOf(datatype))(1);
  for (let at = 0; at < count; at++) {
    const value = values[at] as number | bigint;
    probe[0] = value as never;
    if (probe[0] !== value && !(typeof value === "number" && Number.isNaN(value)) && datatype !== "FP32") {
      throw invalidArgument("protocol", `${where}: element ${at} (${value}) is out of range for ${datatype}`);
    }
    out[at] = value as never;
  }
  return out;
}

/** "fp32Contents" → "fp32_contents", as the field is named in the .proto. */
function protoName(field: Field): string {
  return field.replace("Contents", "_contents").replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
