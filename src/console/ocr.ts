import type { InferCall } from "./infer.ts";
import { inferFromBrowser } from "./infer.ts";
import { bytesElements, decodeOutput } from "./tensors.ts";

/** One line the ocr pipeline read: its text, box (x0, y0, x1, y1 in image pixels) and score. */
export interface OcrLine {
  text: string;
  box: [number, number, number, number];
  score: number;
}

/** Name of the bundled OCR pipeline (models/ocr): the console offers an upload when it serves. */
export const OCR_MODEL = "ocr";

/** Sends one image file (PNG or JPEG bytes) to the ocr pipeline and reads its lines back. */
export async function readImage(
  file: Uint8Array,
  call: Omit<InferCall, "model" | "inputs">,
): Promise<{ lines: OcrLine[]; elapsedMs: number }> {
  const result = await inferFromBrowser({
    ...call,
    model: OCR_MODEL,
    inputs: [{ name: "image", datatype: "BYTES", shape: [1], bytes: bytesElements([file]) }],
  });
  const output = (name: string) => {
    const found = result.outputs.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`ocr answered without output '${name}'`);
    return decodeOutput(found.datatype, found.shape, found.bytes);
  };
  const text = output("text");
  const boxes = output("boxes").map(Number);
  const scores = output("scores").map(Number);
  const lines = text.map((line, index) => ({
    text: line,
    box: boxes.slice(index * 4, index * 4 + 4) as OcrLine["box"],
    score: scores[index] ?? 0,
  }));
  return { lines, elapsedMs: result.elapsedMs };
}
