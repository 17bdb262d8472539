import { ScalarType } from "@bufbuild/protobuf";
import type { Token } from "./tokenizer.ts";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Converts one scalar token to the value protobuf-es stores for `type`
 * (number, bigint for 64-bit integers, boolean, string, bytes). Throws a
 * plain Error with the reason; the parser adds the position.
 */
export function scalarValue(type: ScalarType, token: Token, negative: boolean): unknown {
  switch (type) {
    case ScalarType.STRING:
      return stringValue(token, negative);
    case ScalarType.BYTES:
      if (token.kind !== "string" || negative) throw new Error(`expected a string, got '${token.text}'`);
      return token.bytes;
    case ScalarType.BOOL:
      return boolValue(token, negative);
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return floatValue(token, negative);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return Number(checkedInteger(token, negative, BigInt(INT32_MIN), BigInt(INT32_MAX), "int32"));
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return Number(checkedInteger(token, negative, 0n, BigInt(UINT32_MAX), "uint32"));
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return checkedInteger(token, negative, INT64_MIN, INT64_MAX, "int64");
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return checkedInteger(token, negative, 0n, UINT64_MAX, "uint64");
  }
}

function stringValue(token: Token, negative: boolean): string {
  if (token.kind !== "string" || negative) throw new Error(`expected a quoted string, got '${token.text}'`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(token.bytes);
  } catch {
    throw new Error("string is not valid UTF-8");
  }
}

function boolValue(token: Token, negative: boolean): boolean {
  if (!negative) {
    if (["true", "True", "t", "1"].includes(token.text)) return true;
    if (["false", "False", "f", "0"].includes(token.text)) return false;
  }
  throw new Error(`expected true or false, got '${negative ? "-" : ""}${token.text}'`);
}

function floatValue(token: Token, negative: boolean): number {
  const sign = negative ? -1 : 1;
  if (token.kind === "identifier") {
    const word = token.text.toLowerCase();
    if (word === "inf" || word === "infinity") return sign * Number.POSITIVE_INFINITY;
    if (word === "nan") return Number.NaN;
  }
  if (token.kind !== "number") throw new Error(`expected a number, got '${token.text}'`);
  if (/^0[xX]/.test(token.text)) return sign * Number.parseInt(token.text, 16);
  return sign * Number.parseFloat(token.text.replace(/[fF]$/, ""));
}

function checkedInteger(token: Token, negative: boolean, min: bigint, max: bigint, typeName: string): bigint {
  if (token.kind !== "number") throw new Error(`expected an integer, got '${token.text}'`);
  const text = token.text;
  let magnitude: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) magnitude = BigInt(text);
  else if (/^0[0-7]+$/.test(text)) magnitude = BigInt(`0o${text.slice(1)}`);
  else if (/^[0-9]+$/.test(text)) magnitude = BigInt(text);
  else throw new Error(`expected an integer, got '${negative ? "-" : ""}${text}'`);
  const value = negative ? -magnitude : magnitude;
  if (value < min || value > max) {
    throw new Error(`${negative ? "-" : ""}${text} is out of range for ${typeName}`);
  }
  return value;
}
