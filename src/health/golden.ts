import { arrayTypeOf, type DataType, isBigIntType, isDataType } from "../core/datatype.ts";
import { FerryError } from "../core/errors.ts";
import { bfloat16ToNumber, halfToNumber, numberToBfloat16, numberToHalf } from "../core/float16.ts";
import type { Scalar } from "../core/request.ts";
import { elementCount, formatShape, type Tensor } from "../core/tensor.ts";
import { decodeTensorBytes } from "../core/wire-bytes.ts";

/** Beside config.pbtxt: a model's representative requests and the answers they must get. */
export const GOLDEN_FILE = "golden.json";

export type Value = number | string | boolean;

export interface ExpectedOutput {
  name: string;
  shape: number[] | undefined;
  data: Value[];
  /** Absolute and relative tolerance for numbers: |got − want| ≤ tolerance + relative · |want|. */
  tolerance: number;
  relativeTolerance: number;
}

export interface GoldenRequest {
  name: string;
  inputs: Tensor[];
  parameters: Record<string, Scalar>;
  outputs: ExpectedOutput[];
}

type ReadFile = (path: string) => Promise<Uint8Array | undefined>;

/**
 * Reads `golden.json` (none → no golden requests). Each request has inputs
 * as in v2 JSON (`data`, BYTES as strings) or from a file in the model
 * directory (`file`: raw little-endian data, or for BYTES the one
 * element's bytes), and the outputs it must produce: `data` (BYTES compared
 * exactly, numbers within `tolerance` + `relative_tolerance`·|expected|),
 * and optionally `shape`. Errors name the file and the field.
 */
export async function readGolden(readFile: ReadFile, where: string): Promise<GoldenRequest[]> {
  const bytes = await readFile(GOLDEN_FILE);
  if (!bytes) return [];
  const source = `${where}/${GOLDEN_FILE}`;
  const fail = (path: string, message: string) =>
    new FerryError("INVALID_ARGUMENT", "config", `${source}: ${path}: ${message}`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw fail("", `not valid JSON: ${(error as Error).message}`);
  }
  const requests = (json as { requests?: unknown }).requests;
  if (!Array.isArray(requests) || requests.length === 0)
    throw fail("requests", "must list at least one request");
  const parsed: GoldenRequest[] = [];
  for (const [index, request] of requests.entries()) {
    const at = `requests[${index}]`;
    const entry = request as Record<string, unknown>;
    if (!Array.isArray(entry.inputs)) throw fail(`${at}.inputs`, "must be a list");
    if (!Array.isArray(entry.outputs) || entry.outputs.length === 0)
      throw fail(`${at}.outputs`, "must list the outputs to check");
    const inputs: Tensor[] = [];
    for (const [at2, input] of (entry.inputs as Record<string, unknown>[]).entries()) {
      inputs.push(await goldenInput(input, `${at}.inputs[${at2}]`, readFile, fail));
    }
    const outputs = (entry.outputs as Record<string, unknown>[]).map((output, at2) =>
      expectedOutput(output, `${at}.outputs[${at2}]`, fail),
    );
    parsed.push({
      name: typeof entry.name === "string" ? entry.name : at,
      inputs,
      parameters: (entry.parameters as Record<string, Scalar> | undefined) ?? {},
      outputs,
    });
  }
  return parsed;
}

type Fail = (path: string, message: string) => FerryError;

async function goldenInput(
  input: Record<string, unknown>,
  at: string,
  readFile: ReadFile,
  fail: Fail,
): Promise<Tensor> {
  const { name, datatype, shape } = input;
  if (typeof name !== "string") throw fail(`${at}.name`, "must be a string");
  if (!isDataType(datatype)) throw fail(`${at}.datatype`, `'${String(datatype)}' is not a datatype`);
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isInteger(dim) && dim >= 0))
    throw fail(`${at}.shape`, "must be a list of sizes");
  if (typeof input.file === "string") {
    const bytes = await readFile(input.file);
    if (!bytes) throw fail(`${at}.file`, `'${input.file}' not found beside config.pbtxt`);
    if (datatype === "BYTES") {
      if (elementCount(shape) !== 1)
        throw fail(`${at}.file`, "a BYTES file is one element: shape must hold one");
      return { name, datatype, shape, data: [bytes] };
    }
    return {
      name,
      datatype,
      shape,
      data: decodeTensorBytes(datatype, shape, bytes, `${at}.file`, "config"),
    };
  }
  if (!Array.isArray(input.data)) throw fail(`${at}`, "needs 'data' or 'file'");
  if (input.data.length !== elementCount(shape))
    throw fail(
      `${at}.data`,
      `holds ${input.data.length} element(s), shape ${formatShape(shape)} needs ${elementCount(shape)}`,
    );
  return { name, datatype, shape, data: toData(datatype, input.data as Value[]) };
}

function toData(datatype: DataType, values: Value[]): Tensor["data"] {
  if (datatype === "BYTES") return values.map((value) => new TextEncoder().encode(String(value)));
  const ArrayType = arrayTypeOf(datatype);
  const convert: (value: Value) => number | bigint =
    datatype === "FP16"
      ? (value) => numberToHalf(Number(value))
      : datatype === "BF16"
        ? (value) => numberToBfloat16(Number(value))
        : isBigIntType(datatype)
          ? (value) => BigInt(value as number)
          : (value) => Number(value);
  return (ArrayType as unknown as { from(values: unknown[]): Tensor["data"] }).from(values.map(convert));
}

function expectedOutput(output: Record<string, unknown>, at: string, fail: Fail): ExpectedOutput {
  if (typeof output.name !== "string") throw fail(`${at}.name`, "must be a string");
  if (!Array.isArray(output.data)) throw fail(`${at}.data`, "must list the expected values");
  const number = (key: string, fallback: number) => {
    const value = output[key] ?? fallback;
    if (typeof value !== "number" || value < 0) throw fail(`${at}.${key}`, "must be a number >= 0");
    return value;
  };
  return {
    name: output.name,
    shape: Array.isArray(output.shape) ? (output.shape as number[]) : undefined,
    data: output.data as Value[],
    tolerance: number("tolerance", 0),
    relativeTolerance: number("relative_tolerance", 0),
  };
}

/** Where produced outputs differ from the expected ones (the first few differences), or undefined. */
export function goldenDiff(
  produced: readonly Tensor[],
  expected: readonly ExpectedOutput[],
): string | undefined {
  const problems: string[] = [];
  for (const want of expected) {
    const got = produced.find((tensor) => tensor.name === want.name);
    if (!got) {
      problems.push(`output '${want.name}' is missing`);
      continue;
    }
    if (want.shape && formatShape(got.shape) !== formatShape(want.shape))
      problems.push(
        `output '${want.name}' has shape ${formatShape(got.shape)}, expected ${formatShape(want.shape)}`,
      );
    const values = readValues(got);
    if (values.length !== want.data.length) {
      problems.push(`output '${want.name}' has ${values.length} element(s), expected ${want.data.length}`);
      continue;
    }
    let differences = 0;
    for (let at = 0; at < values.length && differences < 3; at++) {
      const difference = differs(values[at] as Value, want.data[at] as Value, want);
      if (difference) {
        problems.push(`output '${want.name}' element ${at}: ${difference}`);
        differences++;
      }
    }
  }
  return problems.length > 0 ? problems.join("; ") : undefined;
}

function differs(got: Value, want: Value, spec: ExpectedOutput): string | undefined {
  if (typeof want === "number" && typeof got === "number") {
    const by = Math.abs(got - want);
    const allowed = spec.tolerance + spec.relativeTolerance * Math.abs(want);
    return by <= allowed || (Number.isNaN(got) && Number.isNaN(want))
      ? undefined
      : `got ${got}, expected ${want} (differs by ${by.toPrecision(3)}, tolerance ${allowed.toPrecision(3)})`;
  }
  return got === want ? undefined : `got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
}

function readValues(tensor: Tensor): Value[] {
  const data = tensor.data;
  if (Array.isArray(data)) return data.map((element) => new TextDecoder().decode(element));
  if (tensor.datatype === "BOOL") return Array.from(data as Uint8Array, (value) => value !== 0);
  if (tensor.datatype === "FP16") return Array.from(data as Uint16Array, halfToNumber);
  if (tensor.datatype === "BF16") return Array.from(data as Uint16Array, bfloat16ToNumber);
  return Array.from(data as ArrayLike<number | bigint>, Number);
}
