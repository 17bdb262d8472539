/**
 * A test-side encoder/decoder of the binary tensor data extension, written
 * from the protocol description independently of src/, so tests check the
 * server against the spec rather than against itself.
 */
export interface BinaryInput {
  name: string;
  datatype: string;
  shape: number[];
  bytes: Uint8Array;
}

export function encodeBinaryRequest(
  inputs: BinaryInput[],
  extra: Record<string, unknown> = {},
): { body: Uint8Array; headerLength: number } {
  const header = {
    ...extra,
    inputs: inputs.map((input) => ({
      name: input.name,
      datatype: input.datatype,
      shape: input.shape,
      parameters: { binary_data_size: input.bytes.byteLength },
    })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const body = new Uint8Array(
    json.byteLength + inputs.reduce((sum, input) => sum + input.bytes.byteLength, 0),
  );
  body.set(json);
  let offset = json.byteLength;
  for (const input of inputs) {
    body.set(input.bytes, offset);
    offset += input.bytes.byteLength;
  }
  return { body, headerLength: json.byteLength };
}

export interface DecodedOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  bytes?: Uint8Array;
}

/** Splits a response into its JSON header and the binary chunk of each binary output. */
export async function decodeBinaryResponse(
  response: Response,
): Promise<{ header: Record<string, unknown>; outputs: DecodedOutput[] }> {
  const body = new Uint8Array(await response.arrayBuffer());
  const lengthHeader = response.headers.get("inference-header-content-length");
  const jsonLength = lengthHeader === null ? body.byteLength : Number(lengthHeader);
  const header = JSON.parse(new TextDecoder().decode(body.subarray(0, jsonLength)));
  let offset = jsonLength;
  const outputs = (header.outputs as Record<string, unknown>[]).map((output) => {
    const decoded: DecodedOutput = {
      name: output.name as string,
      datatype: output.datatype as string,
      shape: output.shape as number[],
    };
    const size = (output.parameters as Record<string, number> | undefined)?.binary_data_size;
    if (size !== undefined) {
      decoded.bytes = body.slice(offset, offset + size);
      offset += size;
    } else {
      decoded.data = output.data as unknown[];
    }
    return decoded;
  });
  return { header, outputs };
}

/** BYTES elements in the wire form: 4-byte little-endian length, then the bytes. */
export function encodeBytesElements(elements: string[]): Uint8Array {
  const parts = elements.map((element) => new TextEncoder().encode(element));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + 4 + part.byteLength, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setUint32(offset, part.byteLength, true);
    out.set(part, offset + 4);
    offset += 4 + part.byteLength;
  }
  return out;
}

export function decodeBytesElements(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let offset = 0; offset < bytes.byteLength; ) {
    const length = view.getUint32(offset, true);
    out.push(new TextDecoder().decode(bytes.subarray(offset + 4, offset + 4 + length)));
    offset += 4 + length;
  }
  return out;
}
