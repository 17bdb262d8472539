import { h } from "preact";
import { useState } from "preact/hooks";
import type { ConsoleApi } from "../api.ts";
import type { BrowserTransport } from "../infer.ts";
import { type OcrLine, readImage } from "../ocr.ts";

interface Reading {
  url: string;
  lines: OcrLine[];
  width: number;
  height: number;
}

/** Upload an image to the bundled `ocr` pipeline; its boxes are drawn over the image with the text read. */
export function OcrPanel(props: { api: ConsoleApi; transport: BrowserTransport }) {
  const [reading, setReading] = useState<Reading>();
  const [status, setStatus] = useState("");

  const upload = async (event: Event) => {
    const file = (event.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    setStatus(`reading ${file.name} over ${props.transport}…`);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const { width, height } = await imageSize(file);
      const { lines, elapsedMs } = await readImage(bytes, {
        baseUrl: props.api.baseUrl,
        transport: props.transport,
        headers: props.api.headers(),
      });
      if (reading) URL.revokeObjectURL(reading.url);
      setReading({ url: URL.createObjectURL(file), lines, width, height });
      setStatus(`${lines.length} line(s) in ${elapsedMs.toFixed(0)} ms`);
    } catch (error) {
      setStatus(`ocr failed: ${String(error)}`);
    }
  };

  return h(
    "section",
    { id: "ocr" },
    h("h2", null, "OCR"),
    h("input", { type: "file", id: "ocr-file", accept: "image/png,image/jpeg", onChange: upload }),
    h("p", { id: "ocr-status" }, status),
    reading
      ? h(
          "div",
          { class: "ocr-result" },
          h(
            "div",
            { class: "ocr-image" },
            h("img", { src: reading.url, alt: "uploaded image" }),
            ...reading.lines.map((line) => {
              const [x0, y0, x1, y1] = line.box;
              return h("div", {
                class: "ocr-box",
                title: line.text,
                style: {
                  left: `${(100 * x0) / reading.width}%`,
                  top: `${(100 * y0) / reading.height}%`,
                  width: `${(100 * (x1 - x0)) / reading.width}%`,
                  height: `${(100 * (y1 - y0)) / reading.height}%`,
                },
              });
            }),
          ),
          h(
            "ol",
            { id: "ocr-lines" },
            ...reading.lines.map((line) =>
              h(
                "li",
                { "data-score": line.score.toFixed(3) },
                line.text,
                h("span", { class: "hint" }, ` ${line.score.toFixed(2)}`),
              ),
            ),
          ),
        )
      : null,
  );
}

/** The image's size in pixels, which the boxes are given in. */
async function imageSize(file: Blob): Promise<{ width: number; height: number }> {
  const bitmap = await createImageBitmap(file);
  const size = { width: bitmap.width, height: bitmap.height };
  bitmap.close();
  return size;
}
