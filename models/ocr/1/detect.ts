/**
 * Text boxes from the detector's probability map, after PaddleOCR's DB
 * post-processing: threshold the map, take each connected region, keep it
 * if its mean probability is high enough, and grow it by the "unclip"
 * distance (the detector shrinks text regions when it is trained).
 */
export interface TextBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  score: number;
}

const PIXEL_THRESHOLD = 0.3;
const BOX_THRESHOLD = 0.6;
const UNCLIP_RATIO = 1.5;
const MIN_SIDE = 3;

/** Boxes in map coordinates, sorted top to bottom, then left to right. */
export function boxesFromMap(map: Float32Array, width: number, height: number): TextBox[] {
  const label = new Int32Array(width * height);
  const boxes: TextBox[] = [];
  const stack: number[] = [];
  let next = 0;
  for (let start = 0; start < map.length; start++) {
    if (label[start] !== 0 || (map[start] as number) <= PIXEL_THRESHOLD) continue;
    next++;
    let [x0, y0, x1, y1, sum, count] = [width, height, 0, 0, 0, 0];
    label[start] = next;
    stack.push(start);
    while (stack.length > 0) {
      const at = stack.pop() as number;
      const x = at % width;
      const y = (at - x) / width;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
      sum += map[at] as number;
      count++;
      for (const [nx, ny] of [
        [x - 1, y],
        [x + 1, y],
        [x, y - 1],
        [x, y + 1],
      ] as const) {
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const neighbour = ny * width + nx;
        if (label[neighbour] === 0 && (map[neighbour] as number) > PIXEL_THRESHOLD) {
          label[neighbour] = next;
          stack.push(neighbour);
        }
      }
    }
    const boxWidth = x1 - x0 + 1;
    const boxHeight = y1 - y0 + 1;
    const score = sum / count;
    if (Math.min(boxWidth, boxHeight) < MIN_SIDE || score < BOX_THRESHOLD) continue;
    const grow = (boxWidth * boxHeight * UNCLIP_RATIO) / (2 * (boxWidth + boxHeight));
    boxes.push({
      x0: Math.max(0, x0 - grow),
      y0: Math.max(0, y0 - grow),
      x1: Math.min(width, x1 + 1 + grow),
      y1: Math.min(height, y1 + 1 + grow),
      score,
    });
  }
  // Reading order: lines top to bottom (a box starting within half a line counts as the same line).
  return boxes.sort((a, b) => {
    const line = Math.min(a.y1 - a.y0, b.y1 - b.y0) / 2;
    return Math.abs(a.y0 - b.y0) < line ? a.x0 - b.x0 : a.y0 - b.y0;
  });
}
