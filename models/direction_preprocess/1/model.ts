/** A text line's image as text_direction's input: 48 pixels high, up to 192 wide, in [-1, 1]. */
import type { ModelRequest, ModelResponse, TypeScriptModel } from "ferry/model";
import { decodeImage, toChw } from "./image.ts";

const HEIGHT = 48;
const WIDTH = 192;

export default class DirectionPreprocess implements TypeScriptModel {
  execute(requests: ModelRequest[]): ModelResponse[] {
    return requests.map((request) => {
      const files = request.inputs.image?.data as Uint8Array[];
      const size = 3 * HEIGHT * WIDTH;
      const x = new Float32Array(files.length * size);
      try {
        files.forEach((file, at) => {
          const image = decodeImage(file);
          const width = Math.min(WIDTH, Math.ceil((HEIGHT * image.width) / image.height));
          toChw(image, width, HEIGHT, WIDTH, (value) => (value / 255 - 0.5) / 0.5, x, at * size);
        });
      } catch (error) {
        return error as Error;
      }
      return { x: { datatype: "FP32", shape: [files.length, 3, HEIGHT, WIDTH], data: x } };
    });
  }
}
