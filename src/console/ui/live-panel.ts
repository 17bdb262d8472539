import { h } from "preact";
import type { LiveFigures } from "../live-stats.ts";
import { table } from "./table.ts";

const ms = (value: number | undefined) => (value === undefined ? "–" : `${value.toFixed(2)} ms`);

/**
 * Throughput, latency percentiles, queue depth and batch sizes per serving
 * version, from successive readings of the statistics extension.
 */
export function LivePanel(props: { figures: LiveFigures[]; error?: string; refreshMs: number }) {
  return h(
    "section",
    { id: "live" },
    h("h2", null, "Live"),
    h(
      "p",
      { class: "hint" },
      `From /v2/models/stats every ${props.refreshMs / 1000} s. Percentiles are over each interval's mean latency; queue depth is throughput × mean queue time.`,
    ),
    props.error ? h("p", { class: "error" }, props.error) : null,
    table(
      ["model", "version", "inferences/s", "p50", "p95", "p99", "queue depth", "batch sizes (executions)"],
      props.figures.map((figure) =>
        h(
          "tr",
          { "data-live": figure.key },
          h("td", null, figure.model),
          h("td", null, figure.version),
          h("td", { class: "throughput" }, figure.throughput.toFixed(1)),
          h("td", null, ms(figure.p50)),
          h("td", null, ms(figure.p95)),
          h("td", null, ms(figure.p99)),
          h("td", null, figure.queueDepth.toFixed(2)),
          h(
            "td",
            { class: "batches" },
            figure.batches.map((batch) => `${batch.size}×${batch.count}`).join("  ") || "–",
          ),
        ),
      ),
    ),
  );
}
