import { describe, expect, it } from "bun:test";
import { bfloat16ToNumber, halfToNumber, numberToBfloat16, numberToHalf } from "../../src/core/float16.ts";

describe("half precision", () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [0.5, 0x3800],
    [2 ** -24, 0x0001],
    [Number.POSITIVE_INFINITY, 0x7c00],
  ];
  for (const [value, bits] of cases) {
    it(`encodes ${value} as 0x${bits.toString(16)} and back`, () => {
      expect(numberToHalf(value)).toBe(bits);
      expect(halfToNumber(bits)).toBe(value);
    });
  }

  it("rounds to nearest even and overflows to infinity", () => {
    expect(numberToHalf(1 + 2 ** -11)).toBe(0x3c00);
    expect(numberToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(numberToHalf(1e6)).toBe(0x7c00);
    expect(Number.isNaN(halfToNumber(numberToHalf(Number.NaN)))).toBe(true);
  });
});

describe("bfloat16", () => {
  it("keeps the top 16 bits of a float32, rounded", () => {
    expect(numberToBfloat16(1)).toBe(0x3f80);
    expect(bfloat16ToNumber(0x3f80)).toBe(1);
    expect(bfloat16ToNumber(numberToBfloat16(-3.5))).toBe(-3.5);
  });
});
