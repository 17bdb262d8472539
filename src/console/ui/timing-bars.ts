import { h } from "preact";
import type { TimingEntry } from "../infer.ts";

/** The Server-Timing stages of one answer as bars, beside the round trip the page measured. */
export function TimingBars(props: { timing: TimingEntry[]; elapsedMs: number }) {
  const longest = Math.max(props.elapsedMs, ...props.timing.map((entry) => entry.ms), 0.001);
  const bar = (name: string, ms: number, extra = "") =>
    h(
      "div",
      { class: `timing ${extra}`, "data-timing": name },
      h("span", { class: "name" }, name),
      h("span", { class: "bar", style: { width: `${(100 * ms) / longest}%` } }),
      h("span", { class: "ms" }, `${ms.toFixed(3)} ms`),
    );
  return h(
    "div",
    { id: "server-timing" },
    h("h3", null, "Server-Timing"),
    props.timing.length === 0 ? h("p", { class: "hint" }, "no Server-Timing header in the answer") : null,
    ...props.timing.map((entry) => bar(entry.name, entry.ms)),
    bar("round trip (browser)", props.elapsedMs, "total"),
  );
}
