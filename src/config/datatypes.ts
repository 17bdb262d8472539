import type { DataType } from "../core/datatype.ts";
import { DataType as ConfigType } from "../gen/model_config_pb.ts";

/** Config enum ↔ wire name: `TYPE_` dropped, except TYPE_STRING ↔ BYTES. */
const WIRE_NAME: Record<number, DataType> = {
  [ConfigType.TYPE_BOOL]: "BOOL",
  [ConfigType.TYPE_UINT8]: "UINT8",
  [ConfigType.TYPE_UINT16]: "UINT16",
  [ConfigType.TYPE_UINT32]: "UINT32",
  [ConfigType.TYPE_UINT64]: "UINT64",
  [ConfigType.TYPE_INT8]: "INT8",
  [ConfigType.TYPE_INT16]: "INT16",
  [ConfigType.TYPE_INT32]: "INT32",
  [ConfigType.TYPE_INT64]: "INT64",
  [ConfigType.TYPE_FP16]: "FP16",
  [ConfigType.TYPE_FP32]: "FP32",
  [ConfigType.TYPE_FP64]: "FP64",
  [ConfigType.TYPE_STRING]: "BYTES",
  [ConfigType.TYPE_BF16]: "BF16",
};

const CONFIG_TYPE = new Map<DataType, ConfigType>(
  Object.entries(WIRE_NAME).map(([number, name]) => [name, Number(number) as ConfigType]),
);

/** Undefined for TYPE_INVALID or a number outside the enum. */
export function wireDataType(type: ConfigType): DataType | undefined {
  return WIRE_NAME[type];
}

export function configDataType(datatype: DataType): ConfigType {
  return CONFIG_TYPE.get(datatype) ?? ConfigType.TYPE_INVALID;
}

export function configTypeName(type: ConfigType): string {
  return ConfigType[type] ?? `DataType(${type})`;
}
