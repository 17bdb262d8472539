import { type DescField, fromJson, type JsonObject, type JsonValue, ScalarType } from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { FerryError } from "../core/errors.ts";
import { type ModelConfig, ModelConfigSchema } from "../gen/model_config_pb.ts";

/**
 * The JSON form of a config as Triton's `/config` endpoint writes it:
 * snake_case proto names, enums by name, 64-bit integers as plain numbers,
 * scalars, lists and maps emitted even when empty, unset messages omitted.
 */
export function configToJson(config: ModelConfig): JsonObject {
  return messageToJson(reflect(ModelConfigSchema, config));
}

function messageToJson(msg: ReflectMessage): JsonObject {
  const out: JsonObject = {};
  for (const field of msg.fields) {
    if ((field.message || field.oneof) && field.fieldKind !== "list" && field.fieldKind !== "map") {
      if (!msg.isSet(field)) continue;
    }
    out[field.name] = fieldToJson(msg, field);
  }
  return out;
}

function fieldToJson(msg: ReflectMessage, field: DescField): JsonValue {
  switch (field.fieldKind) {
    case "scalar":
      return scalarToJson(field.scalar, msg.get(field));
    case "enum":
      return enumName(field.enum.values, msg.get(field) as number);
    case "message":
      return messageToJson(msg.get(field) as ReflectMessage);
    case "list": {
      const items: JsonValue[] = [];
      for (const item of msg.get(field)) {
        if (field.listKind === "message") items.push(messageToJson(item as ReflectMessage));
        else if (field.listKind === "enum") items.push(enumName(field.enum.values, item as number));
        else items.push(scalarToJson(field.scalar, item));
      }
      return items;
    }
    case "map": {
      const entries: JsonObject = {};
      for (const [key, value] of msg.get(field)) {
        const name = String(key);
        if (field.mapKind === "message") entries[name] = messageToJson(value as ReflectMessage);
        else if (field.mapKind === "enum") entries[name] = enumName(field.enum.values, value as number);
        else entries[name] = scalarToJson(field.scalar, value);
      }
      return entries;
    }
  }
}

function scalarToJson(type: ScalarType, value: unknown): JsonValue {
  if (typeof value === "bigint") return Number(value);
  if (type === ScalarType.BYTES) return Buffer.from(value as Uint8Array).toString("base64");
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return value as JsonValue;
}

function enumName(values: readonly { name: string; number: number }[], number: number): string {
  return values.find((value) => value.number === number)?.name ?? String(number);
}

/**
 * A config from its JSON form (repository load override): proto or JSON
 * field names, enums by name. Unknown fields are an error naming them.
 */
export function configFromJson(json: unknown, where: string): ModelConfig {
  try {
    return fromJson(ModelConfigSchema, json as JsonValue);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FerryError("INVALID_ARGUMENT", "config", `${where}: ${reason}`);
  }
}
