const utf8 = new TextEncoder();

/**
 * A growing UTF-8 buffer that JSON text is appended to, so large tensors are
 * printed straight into the response body rather than through strings.
 */
export class JsonWriter {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity = 1024) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Makes room for `count` more bytes; callers then write into `bytes` from `length`. */
  reserve(count: number): Uint8Array {
    const needed = this.length + count;
    if (needed > this.bytes.byteLength) {
      const grown = new Uint8Array(Math.max(needed, this.bytes.byteLength * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    return this.bytes;
  }

  text(value: string): void {
    this.reserve(value.length * 3); // worst case of UTF-16 → UTF-8
    this.length += utf8.encodeInto(value, this.bytes.subarray(this.length)).written;
  }

  append(chunk: Uint8Array): void {
    this.reserve(chunk.byteLength).set(chunk, this.length);
    this.length += chunk.byteLength;
  }

  /**
   * The bytes written: a view, or a copy when the buffer is mostly slack
   * (room reserved for the widest text of a large tensor), so a response
   * waiting in a socket never holds several times its size.
   */
  finish(): Uint8Array {
    const slack = this.bytes.byteLength - this.length;
    if (slack > this.length && slack > 1 << 20) return this.bytes.slice(0, this.length);
    return this.bytes.subarray(0, this.length);
  }
}
