/**
 * Tokens of the protobuf text format: identifiers, numbers, strings (escapes
 * decoded to bytes), punctuation. Every token carries its 1-based line and
 * column so parse errors can point at the exact place in config.pbtxt.
 */
export type TokenKind = "identifier" | "number" | "string" | "punct" | "eof";

export interface Token {
  kind: TokenKind;
  /** Source text of the token (for strings: without quotes, escapes undecoded). */
  text: string;
  /** Decoded bytes of a string token (adjacent literals already joined). */
  bytes?: Uint8Array;
  line: number;
  column: number;
}

export class TextFormatError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${line}:${column}: ${reason}`);
  }
}

const PUNCTUATION = new Set(["{", "}", "[", "]", "<", ">", ":", ",", ";", "-"]);
const SIMPLE_ESCAPES: Record<string, number> = {
  n: 0x0a,
  t: 0x09,
  r: 0x0d,
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  v: 0x0b,
  "\\": 0x5c,
  "'": 0x27,
  '"': 0x22,
  "?": 0x3f,
};

export class Tokenizer {
  private offset = 0;
  private line = 1;
  private column = 1;
  private peeked: Token | undefined;

  constructor(private readonly text: string) {}

  peek(): Token {
    this.peeked ??= this.read();
    return this.peeked;
  }

  next(): Token {
    const token = this.peek();
    this.peeked = undefined;
    return token;
  }

  private read(): Token {
    this.skipSpaceAndComments();
    const line = this.line;
    const column = this.column;
    if (this.offset >= this.text.length) return { kind: "eof", text: "", line, column };
    const char = this.text[this.offset] as string;
    if (char === '"' || char === "'") return this.readStrings(line, column);
    if (/[A-Za-z_]/.test(char)) return { kind: "identifier", text: this.take(/[A-Za-z0-9_]/), line, column };
    if (/[0-9.]/.test(char)) return this.readNumber(line, column);
    if (PUNCTUATION.has(char)) {
      this.advance(1);
      return { kind: "punct", text: char, line, column };
    }
    throw new TextFormatError(line, column, `unexpected character '${char}'`);
  }

  private skipSpaceAndComments(): void {
    while (this.offset < this.text.length) {
      const char = this.text[this.offset];
      if (char === "#") {
        while (this.offset < this.text.length && this.text[this.offset] !== "\n") this.advance(1);
      } else if (
        char === " " ||
        char === "\t" ||
        char === "\r" ||
        char === "\n" ||
        char === "\f" ||
        char === "\v"
      ) {
        this.advance(1);
      } else {
        return;
      }
    }
  }

  private readNumber(line: number, column: number): Token {
    const text = this.take(/[0-9A-Za-z_.+-]/, (prev, char) =>
      char === "+" || char === "-" ? /[eE]/.test(prev) : true,
    );
    const valid =
      /^(0[xX][0-9a-fA-F]+|[0-9]+([eE][+-]?[0-9]+)?[fF]?|([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fF]?)$/;
    if (!valid.test(text)) throw new TextFormatError(line, column, `malformed number '${text}'`);
    return { kind: "number", text, line, column };
  }

  /** Reads one string literal and any literals adjacent to it ("a" 'b' == "ab"). */
  private readStrings(line: number, column: number): Token {
    const parts: number[] = [];
    let text = "";
    do {
      text += this.readOneString(parts);
      this.skipSpaceAndComments();
    } while (this.text[this.offset] === '"' || this.text[this.offset] === "'");
    return { kind: "string", text, bytes: Uint8Array.from(parts), line, column };
  }

  private readOneString(out: number[]): string {
    const quote = this.text[this.offset];
    const startLine = this.line;
    const startColumn = this.column;
    this.advance(1);
    const start = this.offset;
    while (true) {
      if (this.offset >= this.text.length || this.text[this.offset] === "\n") {
        throw new TextFormatError(startLine, startColumn, "unterminated string");
      }
      const char = this.text[this.offset] as string;
      if (char === quote) break;
      if (char === "\\") {
        this.readEscape(out);
      } else {
        const codePoint = this.text.codePointAt(this.offset) as number;
        const encoded = new TextEncoder().encode(String.fromCodePoint(codePoint));
        out.push(...encoded);
        this.advance(codePoint > 0xffff ? 2 : 1);
      }
    }
    const raw = this.text.slice(start, this.offset);
    this.advance(1);
    return raw;
  }

  private readEscape(out: number[]): void {
    const line = this.line;
    const column = this.column;
    const kind = this.text[this.offset + 1];
    if (kind === undefined) throw new TextFormatError(line, column, "unterminated escape sequence");
    const simple = SIMPLE_ESCAPES[kind];
    if (simple !== undefined) {
      out.push(simple);
      this.advance(2);
      return;
    }
    const octal = /^[0-7]{1,3}/.exec(this.text.slice(this.offset + 1, this.offset + 4));
    if (octal) {
      const value = Number.parseInt(octal[0], 8);
      if (value > 255)
        throw new TextFormatError(line, column, `octal escape '\\${octal[0]}' is out of range`);
      out.push(value);
      this.advance(1 + octal[0].length);
      return;
    }
    if (kind === "x" || kind === "X") {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(this.text.slice(this.offset + 2, this.offset + 4));
      if (!hex) throw new TextFormatError(line, column, "'\\x' must be followed by hex digits");
      out.push(Number.parseInt(hex[0], 16));
      this.advance(2 + hex[0].length);
      return;
    }
    if (kind === "u" || kind === "U") {
      const width = kind === "u" ? 4 : 8;
      const digits = this.text.slice(this.offset + 2, this.offset + 2 + width);
      const codePoint =
        /^[0-9a-fA-F]+$/.test(digits) && digits.length === width ? Number.parseInt(digits, 16) : -1;
      if (codePoint < 0 || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
        throw new TextFormatError(line, column, `invalid unicode escape '\\${kind}${digits}'`);
      }
      out.push(...new TextEncoder().encode(String.fromCodePoint(codePoint)));
      this.advance(2 + width);
      return;
    }
    throw new TextFormatError(line, column, `unknown escape sequence '\\${kind}'`);
  }

  /** Consumes characters matching `pattern` (and `accept`, given the previous character). */
  private take(pattern: RegExp, accept: (prev: string, char: string) => boolean = () => true): string {
    const start = this.offset;
    while (this.offset < this.text.length) {
      const char = this.text[this.offset] as string;
      const prev = this.text[this.offset - 1] ?? "";
      if (!pattern.test(char) || !accept(prev, char)) break;
      this.advance(1);
    }
    return this.text.slice(start, this.offset);
  }

  private advance(count: number): void {
    for (let i = 0; i < count; i++) {
      if (this.text[this.offset] === "\n") {
        this.line++;
        this.column = 1;
      } else {
        this.column++;
      }
      this.offset++;
    }
  }
}
