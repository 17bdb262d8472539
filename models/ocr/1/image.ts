/** RGB images for the OCR pipeline: decoding with pngjs / jpeg-js, and the few pixel operations it needs. */
import jpeg from "jpeg-js";
import { PNG } from "pngjs";

/** Interleaved RGB, 8 bits per channel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

const MAX_PIXELS = 40_000_000;

/** Decodes a PNG or JPEG file; anything else is an error naming what it got. */
export function decodeImage(bytes: Uint8Array): RgbImage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let rgba: { width: number; height: number; data: Uint8Array };
  if (buffer.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    rgba = PNG.sync.read(buffer);
  } else if (buffer[0] === 0xff && buffer[1] === 0xd8) {
    rgba = jpeg.decode(buffer, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6 });
  } else {
    throw Object.assign(new Error(`the image is neither PNG nor JPEG (${bytes.byteLength} bytes)`), {
      code: "INVALID_ARGUMENT",
    });
  }
  const data = new Uint8Array(rgba.width * rgba.height * 3);
  for (let pixel = 0; pixel < rgba.width * rgba.height; pixel++) {
    // Transparent pixels count as white paper.
    const alpha = rgba.data[pixel * 4 + 3] ?? 255;
    for (let channel = 0; channel < 3; channel++) {
      const value = rgba.data[pixel * 4 + channel] ?? 0;
      data[pixel * 3 + channel] = Math.round((value * alpha + 255 * (255 - alpha)) / 255);
    }
  }
  return { width: rgba.width, height: rgba.height, data };
}

/** A region of an image (clamped to it). */
export function crop(image: RgbImage, x0: number, y0: number, x1: number, y1: number): RgbImage {
  const left = Math.max(0, Math.floor(x0));
  const top = Math.max(0, Math.floor(y0));
  const width = Math.max(1, Math.min(image.width, Math.ceil(x1)) - left);
  const height = Math.max(1, Math.min(image.height, Math.ceil(y1)) - top);
  const data = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const from = ((top + row) * image.width + left) * 3;
    data.set(image.data.subarray(from, from + width * 3), row * width * 3);
  }
  return { width, height, data };
}

/** The image turned upside down. */
export function rotate180(image: RgbImage): RgbImage {
  const data = new Uint8Array(image.data.length);
  const pixels = image.width * image.height;
  for (let pixel = 0; pixel < pixels; pixel++) {
    data.set(image.data.subarray(pixel * 3, pixel * 3 + 3), (pixels - 1 - pixel) * 3);
  }
  return { ...image, data };
}

/**
 * Bilinear resize to `width` × `height`, written straight into a planar
 * CHW float tensor of `tensorWidth` columns (the rest stays 0: padding),
 * channels in BGR order as PaddleOCR's models were trained, each value
 * mapped by `normalise(value, channel)`.
 */
export function toChw(
  image: RgbImage,
  width: number,
  height: number,
  tensorWidth: number,
  normalise: (value: number, channel: number) => number,
  out = new Float32Array(3 * height * tensorWidth),
  offset = 0,
): Float32Array {
  const scaleX = image.width / width;
  const scaleY = image.height / height;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.max(0, (y + 0.5) * scaleY - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(image.height - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.max(0, (x + 0.5) * scaleX - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(image.width - 1, x0 + 1);
      const fx = sx - x0;
      for (let channel = 0; channel < 3; channel++) {
        const source = 2 - channel; // BGR
        const at = (px: number, py: number) => image.data[(py * image.width + px) * 3 + source] as number;
        const top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx;
        const bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx;
        const value = top * (1 - fy) + bottom * fy;
        out[offset + (channel * height + y) * tensorWidth + x] = normalise(value, channel);
      }
    }
  }
  return out;
}
