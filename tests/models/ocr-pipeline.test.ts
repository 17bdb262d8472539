import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createConnectTransport } from "@connectrpc/connect-web";
import { PNG } from "pngjs";
import { GRPCInferenceService } from "../../src/gen/grpc_service_pb.ts";
import { OCR_FIXTURE, OCR_FIXTURE_LINES } from "../fixtures/make-ocr-fixture.ts";
import { readJson } from "../support/json.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";
import { decodeBinaryResponse, decodeBytesElements, encodeBinaryRequest } from "../support/v2-binary.ts";

const MODELS = join(import.meta.dir, "..", "..", "models");
const page = new Uint8Array(readFileSync(OCR_FIXTURE));

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(MODELS, [
    "--model-control-mode=explicit",
    "--load-model=ocr",
    "--load-model=text_orientation",
  ]);
});
afterAll(() => server.stop());

/** A PNG turned upside down, or cut to a region first. */
function transformed(png: Uint8Array, options: { rotate?: boolean; rows?: [number, number] }): Uint8Array {
  const image = PNG.sync.read(Buffer.from(png));
  const [top, bottom] = options.rows ?? [0, image.height];
  const out = new PNG({ width: image.width, height: bottom - top });
  const pixels = image.width * (bottom - top);
  for (let pixel = 0; pixel < pixels; pixel++) {
    const target = options.rotate ? pixels - 1 - pixel : pixel;
    image.data.copy(
      out.data,
      target * 4,
      (top * image.width + pixel) * 4,
      (top * image.width + pixel) * 4 + 4,
    );
  }
  return new Uint8Array(PNG.sync.write(out));
}

/** One BYTES element in the binary tensor extension: a 4-byte length, then the file. */
function fileTensor(file: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(4 + file.byteLength);
  new DataView(bytes.buffer).setUint32(0, file.byteLength, true);
  bytes.set(file, 4);
  return bytes;
}

async function readOverHttp(model: string, file: Uint8Array, shape = [1]) {
  const { body, headerLength } = encodeBinaryRequest([
    { name: "image", datatype: "BYTES", shape, bytes: fileTensor(file) },
  ]);
  const response = await fetch(`${server.url}/v2/models/${model}/infer`, {
    method: "POST",
    body,
    headers: { "inference-header-content-length": String(headerLength) },
  });
  return { status: response.status, response };
}

describe("the bundled ocr pipeline (TypeScript over three ONNX models)", () => {
  it("reads the fixture's printed text exactly over HTTP, with boxes and scores", async () => {
    const { status, response } = await readOverHttp("ocr", page);
    expect(status).toBe(200);
    const body = await readJson(response);
    const outputs = Object.fromEntries(body.outputs.map((output: { name: string }) => [output.name, output]));
    expect(outputs.text.data).toEqual(OCR_FIXTURE_LINES);
    expect(outputs.boxes.shape).toEqual([2, 4]);
    const [x0, y0, x1, y1] = outputs.boxes.data as number[];
    expect([x0, y0, x1, y1].every((value) => value >= 0 && value <= 480)).toBe(true);
    expect((x1 as number) > (x0 as number) && (y1 as number) > (y0 as number)).toBe(true);
    expect(outputs.scores.data.every((score: number) => score > 0.8)).toBe(true);
  });

  it("reads the same text over gRPC", async () => {
    const client = createClient(GRPCInferenceService, createGrpcTransport({ baseUrl: server.grpcUrl }));
    const response = await client.modelInfer({
      modelName: "ocr",
      inputs: [{ name: "image", datatype: "BYTES", shape: [1n], contents: { bytesContents: [page] } }],
      outputs: [{ name: "text" }],
    });
    expect(decodeBytesElements(response.rawOutputContents[0] as Uint8Array)).toEqual(OCR_FIXTURE_LINES);
  });

  it("reads the same text over Connect on the HTTP port", async () => {
    const client = createClient(GRPCInferenceService, createConnectTransport({ baseUrl: server.url }));
    const response = await client.modelInfer({
      modelName: "ocr",
      inputs: [{ name: "image", datatype: "BYTES", shape: [1n] }],
      rawInputContents: [fileTensor(page)],
      outputs: [{ name: "text" }],
    });
    expect(decodeBytesElements(response.rawOutputContents[0] as Uint8Array)).toEqual(OCR_FIXTURE_LINES);
  });

  it("turns upside-down lines right way up before reading them", async () => {
    const { response } = await readOverHttp("ocr", transformed(page, { rotate: true }));
    const body = await readJson(response);
    // Upside down, the second line comes first from the top.
    expect(body.outputs[0].data).toEqual([...OCR_FIXTURE_LINES].reverse());
  });

  it("passes its golden request (the fixture and its expected text) on every instance before serving", async () => {
    const report = await readJson(await fetch(`${server.url}/v2/health/ready?verbose=true`));
    const ocr = report.models.find((model: { name: string }) => model.name === "ocr");
    const golden = ocr.versions[0].checks.find((check: { name: string }) => check.name === "golden");
    expect(golden).toMatchObject({
      status: "PASS",
      detail: "1 golden request(s), 2 run(s) each: every output as expected",
    });
  });

  it("answers a file that is not an image with 400 naming what it got", async () => {
    const { status, response } = await readOverHttp("ocr", new TextEncoder().encode("not an image"));
    expect(status).toBe(400);
    expect((await readJson(response)).error).toMatch(
      /^backend: model 'ocr' execute failed in ocr_[01]: the image is neither PNG nor JPEG \(12 bytes\)$/,
    );
  });
});

describe("the bundled text_orientation ensemble (TypeScript → ONNX → TypeScript)", () => {
  const firstLine = transformed(page, { rows: [25, 95] });

  it("labels an upright line 0° and an upside-down one 180°", async () => {
    for (const [file, label] of [
      [firstLine, "0°"],
      [transformed(firstLine, { rotate: true }), "180°"],
    ] as const) {
      const { status, response } = await readOverHttp("text_orientation", file, [1, 1]);
      expect(status).toBe(200);
      const { outputs } = await decodeBinaryResponse(response);
      expect(outputs[0]?.data).toEqual([label]);
      expect(outputs[1]?.data?.[0]).toBeGreaterThan(0.5);
    }
  });
});
