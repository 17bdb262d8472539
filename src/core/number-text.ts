/**
 * Numbers as JSON text written straight into a byte buffer (no intermediate
 * strings): integers, and float32 values with the fewest decimal digits that
 * round-trip — parsing the text as a double and rounding it to float32 gives
 * back the same bits. Printing a float32 widened to double takes up to 17
 * digits and is what made JSON outputs slow and large.
 */

/** Most bytes one writeFloat32 call writes ("-0.00000123456789", "-123456789000000000000"). */
export const FLOAT32_TEXT_MAX = 24;
/** Most bytes one writeInteger call writes for a 32-bit integer. */
export const INT32_TEXT_MAX = 11;

const ZERO = 0x30;
const MINUS = 0x2d;
const DOT = 0x2e;

/** 10^k exactly, k = 0..22 (the powers of ten a double holds exactly). */
const EXACT_POW10 = Float64Array.from({ length: 23 }, (_, k) => 10 ** k);
/** 10^k, k = -46..39, correctly rounded: only to estimate a value's decimal exponent. */
const POW10 = Float64Array.from({ length: 86 }, (_, k) => Number(`1e${k - 46}`));
const LOG10_2 = Math.log10(2);
const bitsOf = new Float32Array(1);
const exponentBits = new Uint32Array(bitsOf.buffer);

/** "00".."99" as ASCII: two digits per division. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => ZERO + (i & 1 ? (i >> 1) % 10 : Math.floor(i / 20)));

/** Writes an integer of magnitude below 2^32 at `at`; returns the end. */
export function writeInteger(bytes: Uint8Array, at: number, value: number): number {
  if (value < 0) {
    bytes[at++] = MINUS;
    value = -value;
  }
  return writeDigits(bytes, at, value);
}

function writeDigits(bytes: Uint8Array, at: number, value: number): number {
  const end = at + digitCount(value);
  let pos = end;
  // Above int32, peel one digit first so the loop's arithmetic stays in int32.
  if (value > 0x7fffffff) {
    const next = Math.floor(value / 10);
    bytes[--pos] = ZERO + value - next * 10;
    value = next;
  }
  let rest = value | 0;
  while (rest >= 100) {
    const next = (rest / 100) | 0;
    const pair = (rest - next * 100) << 1;
    bytes[--pos] = PAIRS[pair + 1] as number;
    bytes[--pos] = PAIRS[pair] as number;
    rest = next;
  }
  if (rest >= 10) {
    bytes[--pos] = PAIRS[(rest << 1) + 1] as number;
    bytes[--pos] = PAIRS[rest << 1] as number;
  } else {
    bytes[--pos] = ZERO + rest;
  }
  return end;
}

/**
 * Writes a float32 value (given as a number that is exactly a float32) as
 * JSON at `at`; returns the end. The text is what JavaScript prints for the
 * shortest round-tripping decimal; NaN and ±Infinity become null, as
 * JSON.stringify makes them; -0 stays -0.
 */
export function writeFloat32(bytes: Uint8Array, at: number, value: number): number {
  if (!Number.isFinite(value)) {
    return writeAscii(bytes, at, "null");
  }
  if (value < 0 || (value === 0 && 1 / value < 0)) {
    bytes[at++] = MINUS;
    value = -value;
  }
  // Integers below 2^24 are exact in float32 and need all their digits.
  if (value < 16_777_216 && Math.floor(value) === value) return writeInteger(bytes, at, value);
  // Try 6..9 significant digits (6 never loses a shorter form: a float32 is within 1.2e-7 relative of it).
  const exponent = decimalExponent(value);
  for (let precision = 6; precision <= 9; precision++) {
    const scale = precision - 1 - exponent;
    if (scale > 22 || scale < -22) break;
    // digits / 10^scale (or digits * 10^-scale) with both operands exact is the correctly rounded
    // double of that decimal, which is what a client's parser gets from the text.
    const power = EXACT_POW10[scale < 0 ? -scale : scale] as number;
    const digits = scale < 0 ? Math.round(value / power) : Math.round(value * power);
    const parsed = scale < 0 ? digits * power : digits / power;
    if (Math.fround(parsed) === value) return writeDecimal(bytes, at, digits, scale, parsed);
  }
  return writeAscii(bytes, at, slowShortest(value));
}

/** writeFloat32 as a string, for tests and small outputs. */
export function float32Text(value: number): string {
  const bytes = new Uint8Array(FLOAT32_TEXT_MAX);
  return String.fromCharCode(...bytes.subarray(0, writeFloat32(bytes, 0, value)));
}

/** floor(log10(value)) for a positive float32, from its binary exponent plus one comparison. */
function decimalExponent(value: number): number {
  bitsOf[0] = value;
  const binary = ((exponentBits[0] as number) >>> 23) - 127; // -127: subnormal, good enough as an estimate
  let exponent = Math.floor(binary * LOG10_2);
  if (value >= (POW10[exponent + 47] as number)) exponent++;
  return exponent;
}

/**
 * Writes digits × 10^-scale (= parsed) the way Number.prototype.toString
 * prints it: trailing zeros after the point dropped, exponent form below
 * 1e-6 and from 1e21 (rare for tensors: left to toString).
 */
function writeDecimal(bytes: Uint8Array, at: number, digits: number, scale: number, parsed: number): number {
  const pointAt = digitCount(digits) - scale; // digits before the point
  if (pointAt > 21 || pointAt <= -6) return writeAscii(bytes, at, String(parsed));
  if (scale <= 0) {
    // Only integers of 2^24 and more, which float32 spaces 2 and more apart.
    at = writeDigits(bytes, at, digits);
    for (; scale < 0; scale++) bytes[at++] = ZERO;
    return at;
  }
  let end: number;
  if (pointAt > 0) {
    // Digits one byte to the right, then the integer part moved back over the point's place.
    end = writeDigits(bytes, at + 1, digits);
    for (let i = 0; i < pointAt; i++) bytes[at + i] = bytes[at + i + 1] as number;
    bytes[at + pointAt] = DOT;
  } else {
    bytes[at++] = ZERO;
    bytes[at++] = DOT;
    for (let i = pointAt; i < 0; i++) bytes[at++] = ZERO;
    end = writeDigits(bytes, at, digits);
  }
  // A float32 that is not an integer never prints as one, so a fractional digit always stays.
  while (bytes[end - 1] === ZERO) end--;
  return end;
}

/** Far from 1 (|exponent| beyond exact powers of ten): the exact but slower string route. */
function slowShortest(value: number): string {
  for (let precision = 1; precision < 9; precision++) {
    const parsed = Number(value.toPrecision(precision));
    if (Math.fround(parsed) === value) return String(parsed);
  }
  return String(Number(value.toPrecision(9)));
}

/** Decimal digits of an integer below 2^32. */
function digitCount(value: number): number {
  if (value < 100_000) return value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : value < 10_000 ? 4 : 5;
  return value < 1e6 ? 6 : value < 1e7 ? 7 : value < 1e8 ? 8 : value < 1e9 ? 9 : 10;
}

function writeAscii(bytes: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
  return at;
}
