import {
  type DescEnum,
  type DescField,
  type DescMessage,
  type MessageShape,
  ScalarType,
} from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { scalarValue } from "./scalars.ts";
import { TextFormatError, type Token, Tokenizer } from "./tokenizer.ts";

/**
 * Parses protobuf text format (config.pbtxt) into a message of `schema`,
 * driven by the generated descriptors. Stricter than "last one wins": a
 * singular field or a second member of a oneof given twice is an error, as in
 * protobuf's C++ parser that Triton uses. Throws TextFormatError with line and column.
 */
export function parseTextFormat<Desc extends DescMessage>(schema: Desc, text: string): MessageShape<Desc> {
  const tokens = new Tokenizer(text);
  const root = reflect(schema);
  readFields(root, tokens, undefined);
  return root.message as MessageShape<Desc>;
}

const MAX_DEPTH = 100;

function readFields(msg: ReflectMessage, tokens: Tokenizer, close: "}" | ">" | undefined, depth = 0): void {
  if (depth > MAX_DEPTH) {
    const at = tokens.peek();
    throw new TextFormatError(at.line, at.column, `messages nested deeper than ${MAX_DEPTH} levels`);
  }
  const seen = new Set<DescField>();
  while (true) {
    const token = tokens.next();
    if (token.kind === "eof") {
      if (close)
        throw new TextFormatError(token.line, token.column, `expected '${close}' before end of file`);
      return;
    }
    if (close && token.kind === "punct" && token.text === close) return;
    if (token.kind !== "identifier") throw unexpected(token, "a field name");
    const field = findField(msg.desc, token);
    checkNotRepeated(msg, field, seen, token);
    readField(msg, field, tokens, depth);
    const separator = tokens.peek();
    if (separator.kind === "punct" && (separator.text === "," || separator.text === ";")) tokens.next();
  }
}

function findField(desc: DescMessage, token: Token): DescField {
  const field = desc.fields.find((f) => f.name === token.text);
  if (field) return field;
  throw new TextFormatError(token.line, token.column, `unknown field '${token.text}' in ${desc.name}`);
}

/** Singular fields may appear once; members of a oneof exclude each other. */
function checkNotRepeated(msg: ReflectMessage, field: DescField, seen: Set<DescField>, token: Token): void {
  if (field.fieldKind === "list" || field.fieldKind === "map") return;
  if (seen.has(field)) {
    throw new TextFormatError(token.line, token.column, `field '${field.name}' is specified more than once`);
  }
  if (field.oneof) {
    const other = msg.oneofCase(field.oneof);
    if (other && other !== field) {
      throw new TextFormatError(
        token.line,
        token.column,
        `field '${field.name}' conflicts with '${other.name}': both belong to oneof '${field.oneof.name}'`,
      );
    }
  }
  seen.add(field);
}

function readField(msg: ReflectMessage, field: DescField, tokens: Tokenizer, depth: number): void {
  const takesMessage = field.message !== undefined || field.fieldKind === "map";
  const colon = tokens.peek();
  if (colon.kind === "punct" && colon.text === ":") tokens.next();
  else if (!takesMessage) throw unexpected(colon, `':' after '${field.name}'`);

  const isList = field.fieldKind === "list" || field.fieldKind === "map";
  const open = tokens.peek();
  if (isList && open.kind === "punct" && open.text === "[") {
    tokens.next();
    if (isPunct(tokens.peek(), "]")) {
      tokens.next();
      return;
    }
    while (true) {
      readOneValue(msg, field, tokens, depth);
      const after = tokens.next();
      if (isPunct(after, "]")) return;
      if (!isPunct(after, ",")) throw unexpected(after, "',' or ']' in list");
    }
  }
  readOneValue(msg, field, tokens, depth);
}

function readOneValue(msg: ReflectMessage, field: DescField, tokens: Tokenizer, depth: number): void {
  switch (field.fieldKind) {
    case "scalar":
      msg.set(field, readScalar(field.scalar, field.name, tokens));
      return;
    case "enum":
      msg.set(field, readEnum(field.enum, field.name, tokens));
      return;
    case "message":
      msg.set(field, readMessage(field.message, tokens, depth));
      return;
    case "list": {
      const list = msg.get(field);
      if (field.listKind === "message") list.add(readMessage(field.message, tokens, depth));
      else if (field.listKind === "enum") list.add(readEnum(field.enum, field.name, tokens));
      else list.add(readScalar(field.scalar, field.name, tokens));
      return;
    }
    case "map":
      readMapEntry(msg, field, tokens, depth);
      return;
  }
}

function readMessage(desc: DescMessage, tokens: Tokenizer, depth: number): ReflectMessage {
  const open = tokens.next();
  if (!isPunct(open, "{") && !isPunct(open, "<")) throw unexpected(open, "'{' or '<'");
  const child = reflect(desc);
  readFields(child, tokens, open.text === "{" ? "}" : ">", depth + 1);
  return child;
}

/** A map entry is written as a message with fields `key` and `value`. */
function readMapEntry(
  msg: ReflectMessage,
  field: DescField & { fieldKind: "map" },
  tokens: Tokenizer,
  depth: number,
) {
  const open = tokens.next();
  if (!isPunct(open, "{") && !isPunct(open, "<"))
    throw unexpected(open, `'{' to start an entry of map '${field.name}'`);
  const close = open.text === "{" ? "}" : ">";
  let key: unknown;
  let value: unknown;
  while (true) {
    const name = tokens.next();
    if (isPunct(name, close)) break;
    if (name.kind !== "identifier" || (name.text !== "key" && name.text !== "value")) {
      throw unexpected(name, `'key' or 'value' in an entry of map '${field.name}'`);
    }
    if ((name.text === "key" ? key : value) !== undefined) {
      throw new TextFormatError(
        name.line,
        name.column,
        `map entry '${name.text}' is specified more than once`,
      );
    }
    if (name.text === "key") {
      expectColon(tokens, "key");
      key = readScalar(field.mapKey, `${field.name}.key`, tokens);
    } else if (field.mapKind === "message") {
      if (isPunct(tokens.peek(), ":")) tokens.next();
      value = readMessage(field.message, tokens, depth);
    } else {
      expectColon(tokens, "value");
      value =
        field.mapKind === "enum"
          ? readEnum(field.enum, `${field.name}.value`, tokens)
          : readScalar(field.scalar, `${field.name}.value`, tokens);
    }
    const separator = tokens.peek();
    if (isPunct(separator, ",") || isPunct(separator, ";")) tokens.next();
  }
  const map = msg.get(field);
  map.set(key ?? defaultKey(field.mapKey), value ?? defaultValue(field));
}

function defaultKey(type: ScalarType): unknown {
  if (type === ScalarType.STRING) return "";
  if (type === ScalarType.BOOL) return false;
  return isLong(type) ? 0n : 0;
}

function defaultValue(field: DescField & { fieldKind: "map" }): unknown {
  if (field.mapKind === "message") return reflect(field.message);
  if (field.mapKind === "enum") return field.enum.values[0]?.number ?? 0;
  return defaultKey(field.scalar);
}

function isLong(type: ScalarType): boolean {
  return [
    ScalarType.INT64,
    ScalarType.UINT64,
    ScalarType.SINT64,
    ScalarType.FIXED64,
    ScalarType.SFIXED64,
  ].includes(type);
}

function expectColon(tokens: Tokenizer, what: string): void {
  const colon = tokens.next();
  if (!isPunct(colon, ":")) throw unexpected(colon, `':' after '${what}'`);
}

function readScalar(type: ScalarType, fieldName: string, tokens: Tokenizer): unknown {
  let token = tokens.next();
  let negative = false;
  if (isPunct(token, "-")) {
    negative = true;
    token = tokens.next();
  }
  try {
    return scalarValue(type, token, negative);
  } catch (error) {
    if (error instanceof TextFormatError) throw error;
    throw new TextFormatError(token.line, token.column, `field '${fieldName}': ${(error as Error).message}`);
  }
}

function readEnum(desc: DescEnum, fieldName: string, tokens: Tokenizer): number {
  const token = tokens.next();
  if (token.kind === "identifier") {
    const value = desc.values.find((v) => v.name === token.text);
    if (value) return value.number;
    const known = desc.values.map((v) => v.name).join(", ");
    throw new TextFormatError(
      token.line,
      token.column,
      `unknown value '${token.text}' for field '${fieldName}' (${desc.name}: one of ${known})`,
    );
  }
  if (token.kind === "number" && /^[0-9]+$/.test(token.text)) {
    const number = Number(token.text);
    if (desc.values.some((v) => v.number === number)) return number;
  }
  throw unexpected(token, `a ${desc.name} value for field '${fieldName}'`);
}

function isPunct(token: Token, text: string): boolean {
  return token.kind === "punct" && token.text === text;
}

function unexpected(token: Token, expected: string): TextFormatError {
  const got = token.kind === "eof" ? "end of file" : `'${token.text}'`;
  return new TextFormatError(token.line, token.column, `expected ${expected}, got ${got}`);
}
