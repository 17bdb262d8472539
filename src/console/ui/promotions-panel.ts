import { h } from "preact";
import type { ModelPromotion, PromotionState } from "../api.ts";

/**
 * The canary split of unversioned requests and, for models an S3 promotion
 * manifest serves, who promoted what when, newest first.
 */
export function PromotionsPanel(props: { promotions?: ModelPromotion[]; error?: string }) {
  return h(
    "section",
    { id: "promotions" },
    h("h2", null, "Promotions and canary split"),
    props.error ? h("p", { class: "error" }, props.error) : null,
    ...(props.promotions ?? []).map((promotion) =>
      h(
        "div",
        { class: "promotion", "data-promotion": promotion.name },
        h("h3", null, promotion.name),
        h(
          "div",
          { class: "split" },
          ...promotion.routes.map((route) =>
            h(
              "span",
              { class: "route", style: { flexGrow: Math.max(route.weight, 1) } },
              `v${route.version} ${route.weight}%`,
            ),
          ),
        ),
        promotion.current
          ? h(
              "ol",
              { class: "history" },
              stateItem(promotion.current, true),
              ...promotion.history.map((state) => stateItem(state, false)),
            )
          : h("p", { class: "hint" }, "No promotion manifest: the version policy decides."),
      ),
    ),
  );
}

function stateItem(state: PromotionState, current: boolean) {
  const serving = state.serving.map((entry) => `v${entry.version} ${entry.weight}%`).join(", ");
  return h(
    "li",
    { class: current ? "current" : "" },
    `revision ${state.revision}: ${serving} — ${state.promoted_by}, ${state.promoted_at}`,
    state.note ? ` (${state.note})` : "",
  );
}
