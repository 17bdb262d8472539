/** Names the more likely orientation of each row of text_direction's output. */
import type { ModelRequest, ModelResponse, TypeScriptModel } from "ferry/model";

const LABELS = ["0°", "180°"];

export default class DirectionLabel implements TypeScriptModel {
  execute(requests: ModelRequest[]): ModelResponse[] {
    const encoder = new TextEncoder();
    return requests.map((request) => {
      const odds = request.inputs.probabilities?.data as Float32Array;
      const rows = odds.length / 2;
      const best = Array.from({ length: rows }, (_, row) => ((odds[row * 2 + 1] as number) > 0.5 ? 1 : 0));
      return {
        orientation: {
          datatype: "BYTES",
          shape: [rows, 1],
          data: best.map((label) => encoder.encode(LABELS[label])),
        },
        confidence: {
          datatype: "FP32",
          shape: [rows, 1],
          data: Float32Array.from(best, (label, row) => odds[row * 2 + label] as number),
        },
      };
    });
  }
}
