/**
 * The `ocr` pipeline: one PNG or JPEG in, the text lines it reads out.
 * Decodes the image, runs the detector (ocr_detection) on it, turns the
 * probability map into boxes, crops them, turns upside-down ones right way
 * up (text_direction), reads all crops in one batch (ocr_recognition) and
 * decodes the result with PaddleOCR's dictionary. Every model call goes
 * through that model's own scheduler, so concurrent requests batch there.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type {
  InitializeArgs,
  ModelContext,
  ModelRequest,
  ModelResponse,
  ModelTensor,
  TensorMap,
  TypeScriptModel,
} from "ferry/model";
import { decodeCtc } from "./ctc.ts";
import { boxesFromMap, type TextBox } from "./detect.ts";
import { crop, decodeImage, type RgbImage, rotate180, toChw } from "./image.ts";

/** Longest side the detector sees; larger images are scaled down. */
const DETECTION_LIMIT = 960;
/** ImageNet statistics, applied per BGR channel as PaddleOCR's detector expects. */
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const LINE_HEIGHT = 48;
const DIRECTION_WIDTH = 192;
/** Batch limits of the models called (their max_batch_size). */
const DIRECTION_BATCH = 4;
const RECOGNITION_BATCH = 16;
const UPSIDE_DOWN_CONFIDENCE = 0.9;

const toUnit = (value: number) => (value / 255 - 0.5) / 0.5;
const fp32 = (shape: number[], data: Float32Array): ModelTensor => ({ datatype: "FP32", shape, data });

/** Text lines as one batch: each 48 pixels high, keeping its aspect up to `width`, padded right, in [-1, 1]. */
function linesTensor(lines: RgbImage[], width: number): ModelTensor {
  const size = 3 * LINE_HEIGHT * width;
  const data = new Float32Array(lines.length * size);
  lines.forEach((line, at) => {
    const scaled = Math.min(width, Math.ceil((LINE_HEIGHT * line.width) / line.height));
    toChw(line, scaled, LINE_HEIGHT, width, toUnit, data, at * size);
  });
  return fp32([lines.length, 3, LINE_HEIGHT, width], data);
}

export default class Ocr implements TypeScriptModel {
  private dictionary: string[] = [];

  initialize(args: InitializeArgs): void {
    const text = readFileSync(join(args.versionDirectory, "ppocr_keys_v1.txt"), "utf8");
    this.dictionary = text.split(/\r?\n/).filter((line, at, lines) => line !== "" || at < lines.length - 1);
  }

  async execute(requests: ModelRequest[], context: ModelContext): Promise<ModelResponse[]> {
    return Promise.all(
      requests.map((request) => this.read(request, context).catch((error: unknown) => error as Error)),
    );
  }

  private async read(request: ModelRequest, context: ModelContext): Promise<TensorMap> {
    const file = (request.inputs.image?.data as Uint8Array[] | undefined)?.[0];
    if (!file) throw Object.assign(new Error("input 'image' holds no file"), { code: "INVALID_ARGUMENT" });
    const image = decodeImage(file);
    const boxes = await this.detect(image, context);
    const crops = await this.orient(
      boxes.map((box) => crop(image, box.x0, box.y0, box.x1, box.y1)),
      context,
    );
    const lines = await this.recognise(crops, context);
    const encoder = new TextEncoder();
    return {
      text: {
        datatype: "BYTES",
        shape: [lines.length],
        data: lines.map((line) => encoder.encode(line.text)),
      },
      boxes: fp32(
        [boxes.length, 4],
        Float32Array.from(boxes.flatMap((box) => [box.x0, box.y0, box.x1, box.y1])),
      ),
      scores: fp32(
        [lines.length],
        Float32Array.from(lines, (line) => line.score),
      ),
    };
  }

  /** Text boxes in image coordinates. */
  private async detect(image: RgbImage, context: ModelContext): Promise<TextBox[]> {
    const scale = Math.min(1, DETECTION_LIMIT / Math.max(image.width, image.height));
    const width = Math.max(32, Math.round((image.width * scale) / 32) * 32);
    const height = Math.max(32, Math.round((image.height * scale) / 32) * 32);
    const input = toChw(image, width, height, width, (value, channel) => {
      return (value / 255 - (MEAN[channel] as number)) / (STD[channel] as number);
    });
    const { "sigmoid_0.tmp_0": map } = await context.infer("ocr_detection", {
      x: fp32([1, 3, height, width], input),
    });
    const boxes = boxesFromMap(map?.data as Float32Array, width, height);
    const sx = image.width / width;
    const sy = image.height / height;
    return boxes.map((box) => ({
      ...box,
      x0: box.x0 * sx,
      x1: box.x1 * sx,
      y0: box.y0 * sy,
      y1: box.y1 * sy,
    }));
  }

  /** Crops the direction classifier says are upside down, turned right way up. */
  private async orient(crops: RgbImage[], context: ModelContext): Promise<RgbImage[]> {
    const out = [...crops];
    for (let first = 0; first < crops.length; first += DIRECTION_BATCH) {
      const chunk = crops.slice(first, first + DIRECTION_BATCH);
      const { "softmax_0.tmp_0": odds } = await context.infer("text_direction", {
        x: linesTensor(chunk, DIRECTION_WIDTH),
      });
      const probabilities = odds?.data as Float32Array;
      chunk.forEach((line, at) => {
        if ((probabilities[at * 2 + 1] as number) > UPSIDE_DOWN_CONFIDENCE) out[first + at] = rotate180(line);
      });
    }
    return out;
  }

  /** The text of each crop, with the recogniser's mean confidence. */
  private async recognise(
    crops: RgbImage[],
    context: ModelContext,
  ): Promise<{ text: string; score: number }[]> {
    const lines: { text: string; score: number }[] = [];
    for (let first = 0; first < crops.length; first += RECOGNITION_BATCH) {
      const chunk = crops.slice(first, first + RECOGNITION_BATCH);
      const ratio = Math.max(320 / LINE_HEIGHT, ...chunk.map((line) => line.width / line.height));
      const { "softmax_11.tmp_0": output } = await context.infer("ocr_recognition", {
        x: linesTensor(chunk, Math.ceil(LINE_HEIGHT * ratio)),
      });
      const [, steps = 0, classes = 0] = output?.shape ?? [];
      const probabilities = output?.data as Float32Array;
      chunk.forEach((_, at) => {
        const row = probabilities.subarray(at * steps * classes, (at + 1) * steps * classes);
        lines.push(decodeCtc(row, steps, classes, this.dictionary));
      });
    }
    return lines;
  }
}
