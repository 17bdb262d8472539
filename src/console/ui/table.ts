import { type ComponentChildren, h } from "preact";

/** A table with one header row of `titles` and the given body rows. */
export function table(titles: string[], rows: ComponentChildren[]) {
  return h(
    "table",
    null,
    h("thead", null, h("tr", null, ...titles.map((title) => h("th", null, title)))),
    h("tbody", null, ...rows),
  );
}
