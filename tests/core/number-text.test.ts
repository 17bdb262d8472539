import { describe, expect, test } from "bun:test";
import { FLOAT32_TEXT_MAX, float32Text, writeInteger } from "../../src/core/number-text.ts";

const bits = new Uint32Array(1);
const float = new Float32Array(bits.buffer);
const fromBits = (pattern: number) => {
  bits[0] = pattern;
  return float[0] as number;
};

/** Deterministic xorshift32, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
}

/** What JavaScript prints for the fewest significant digits that round-trip as float32. */
function reference(value: number): string {
  for (let precision = 1; ; precision++) {
    const parsed = Number(value.toPrecision(precision));
    if (Math.fround(parsed) === value) return String(parsed);
  }
}

function expectRoundTrip(value: number): void {
  const text = float32Text(value);
  expect(text.length).toBeLessThanOrEqual(FLOAT32_TEXT_MAX);
  const parsed = JSON.parse(text); // throws on text that is not JSON
  if (Number.isNaN(value) || !Number.isFinite(value)) {
    expect(parsed).toBeNull();
    return;
  }
  expect(Object.is(Math.fround(parsed), value)).toBe(true);
  if (value !== 0) expect(text).toBe(reference(value));
}

describe("float32Text", () => {
  test("special values: ±0 keep their sign, NaN and ±Infinity become null", () => {
    expect(float32Text(0)).toBe("0");
    expect(float32Text(-0)).toBe("-0");
    expect(float32Text(Number.NaN)).toBe("null");
    expect(float32Text(Number.POSITIVE_INFINITY)).toBe("null");
    expect(float32Text(Number.NEGATIVE_INFINITY)).toBe("null");
  });

  test("prints the shortest digits, in JavaScript's number format", () => {
    const cases: [number, string][] = [
      [0.1, "0.1"],
      [-0.5, "-0.5"],
      [1, "1"],
      [16_777_216, "16777216"],
      [1e10, "10000000000"],
      [123.456, "123.456"],
      [1e-6, "0.000001"],
      [1e-7, "1e-7"],
      [1e21, "1e+21"],
      [3.4028234663852886e38, "3.4028235e+38"], // largest float32
      [1.1754943508222875e-38, "1.1754944e-38"], // smallest normal
      [1.401298464324817e-45, "1e-45"], // smallest subnormal
    ];
    for (const [value, text] of cases) expect(float32Text(Math.fround(value))).toBe(text);
  });

  test("every bit pattern tried parses back to the same float32", () => {
    const next = random(0x9e3779b9);
    for (let i = 0; i < 100_000; i++) expectRoundTrip(fromBits(next()));
    // Edges of each exponent: ±0, subnormals, max/min normal, ±Infinity, NaN, the first and last mantissas.
    for (let exponent = 0; exponent < 256; exponent++) {
      for (const mantissa of [0, 1, 2, 0x3fffff, 0x400000, 0x7ffffe, 0x7fffff]) {
        expectRoundTrip(fromBits((exponent << 23) | mantissa));
        expectRoundTrip(fromBits((0x80000000 | (exponent << 23) | mantissa) >>> 0));
      }
    }
  });

  test("values of the usual tensor magnitudes parse back to the same float32", () => {
    const next = random(12_345);
    for (let i = 0; i < 100_000; i++) {
      const scale = [1, 1000, 1e-3, 1e6][i % 4] as number;
      expectRoundTrip(Math.fround(((next() / 2 ** 32) * 2 - 1) * scale));
    }
  });
});

describe("writeInteger", () => {
  test("writes every 32-bit magnitude", () => {
    const bytes = new Uint8Array(16);
    const text = (value: number) =>
      new TextDecoder().decode(bytes.subarray(0, writeInteger(bytes, 0, value)));
    for (const value of [
      0, 7, 10, 99, 100, 101, 65_535, -128, -2_147_483_648, 2_147_483_647, 2_147_483_648, 4_294_967_295,
    ]) {
      expect(text(value)).toBe(String(value));
    }
  });
});
