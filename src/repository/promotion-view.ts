import type { ManifestState, PromotionManifest } from "./manifest.ts";
import type { Route } from "./routing.ts";

/** One promotion state as the console and the promotions endpoint show it. */
export interface PromotionStateView {
  revision: number;
  promoted_by: string;
  promoted_at: string;
  note?: string;
  /** Serving versions and their share of unversioned requests (percent). */
  serving: { version: string; weight: number }[];
}

/** A model's current traffic split and, when a manifest decided it, the promotion history. */
export interface ModelPromotionView {
  name: string;
  /** Where unversioned requests go now (percent per version). */
  routes: { version: string; weight: number }[];
  /** The manifest state that serves; absent when the version policy decided. */
  current?: PromotionStateView;
  /** Earlier states, newest first (what `ferry rollback` returns to). */
  history: PromotionStateView[];
}

/**
 * Builds the view from the manifest that serves (if any) and the routes in
 * use; without routes the newest serving version takes every unversioned
 * request, as the router does.
 */
export function promotionView(
  name: string,
  manifest: PromotionManifest | undefined,
  routes: readonly Route[],
  serving: readonly string[],
): ModelPromotionView {
  const newest = serving.at(-1);
  const split =
    routes.length > 0
      ? routes.map((route) => ({ version: String(route.version), weight: route.weight }))
      : newest === undefined
        ? []
        : [{ version: newest, weight: 100 }];
  if (!manifest) return { name, routes: split, history: [] };
  return {
    name,
    routes: split,
    current: stateView(manifest),
    history: manifest.history.map(stateView).reverse(),
  };
}

function stateView(state: ManifestState): PromotionStateView {
  return {
    revision: state.revision,
    promoted_by: state.promoted_by,
    promoted_at: state.promoted_at,
    ...(state.note === undefined ? {} : { note: state.note }),
    serving: state.serving.map((entry) => ({ version: entry.version, weight: entry.weight })),
  };
}
