/**
 * A line chart as a standalone SVG: one x axis, up to two y axes (left for
 * the first series' unit, right for the second's), no dependencies.
 */
export interface Series {
  name: string;
  unit: string;
  color: string;
  points: [number, number][];
}

const WIDTH = 720;
const HEIGHT = 320;
const MARGIN = { left: 70, right: 70, top: 40, bottom: 45 };

/**
 * Series on one shared left axis (all in the same unit), or — with
 * `twoAxes` — the first on the left axis and the second on the right.
 */
export function lineChart(title: string, xLabel: string, series: Series[], twoAxes = true): string {
  const xs = series.flatMap((line) => line.points.map(([x]) => x));
  const xMax = Math.max(1, ...xs);
  // One shared axis keeps the right margin for the legend.
  const plotW = WIDTH - MARGIN.left - (twoAxes ? MARGIN.right : 130);
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (value: number) => MARGIN.left + (value / xMax) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="black"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
  ];
  for (let tick = 0; tick <= 4; tick++) {
    const value = (xMax * tick) / 4;
    parts.push(
      `<text x="${x(value)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${format(value)}</text>`,
    );
  }
  const sharedMax = niceMax(Math.max(0, ...series.flatMap((line) => line.points.map(([, y]) => y))));
  const axis = (axisX: number, yMax: number, color: string, left: boolean, label: string) => {
    const y = (value: number) => MARGIN.top + plotH - (value / yMax) * plotH;
    parts.push(
      `<line x1="${axisX}" y1="${MARGIN.top}" x2="${axisX}" y2="${MARGIN.top + plotH}" stroke="${color}"/>`,
    );
    for (let tick = 0; tick <= 4; tick++) {
      const value = (yMax * tick) / 4;
      parts.push(
        `<text x="${axisX + (left ? -6 : 6)}" y="${y(value) + 4}" text-anchor="${left ? "end" : "start"}" fill="${color}">${format(value)}</text>`,
      );
    }
    parts.push(
      `<text x="${axisX}" y="${MARGIN.top - 8}" text-anchor="middle" fill="${color}">${escapeXml(label)}</text>`,
    );
  };
  if (!twoAxes) axis(MARGIN.left, sharedMax, "black", true, series[0]?.unit ?? "");
  (twoAxes ? series.slice(0, 2) : series).forEach((line, index) => {
    const yMax = twoAxes ? niceMax(Math.max(0, ...line.points.map(([, y]) => y))) : sharedMax;
    const y = (value: number) => MARGIN.top + plotH - (value / yMax) * plotH;
    if (twoAxes)
      axis(
        index === 0 ? MARGIN.left : MARGIN.left + plotW,
        yMax,
        line.color,
        index === 0,
        `${line.name} (${line.unit})`,
      );
    // One axis: a legend entry per line instead.
    else
      parts.push(
        `<text x="${MARGIN.left + plotW + 6}" y="${MARGIN.top + 14 * index + 4}" fill="${line.color}">${escapeXml(line.name)}</text>`,
      );
    parts.push(
      `<polyline fill="none" stroke="${line.color}" stroke-width="2" points="${line.points
        .map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`)
        .join(" ")}"/>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

function format(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;");
}
