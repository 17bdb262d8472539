import type { ApiGroup, Restrictions } from "../restrictions.ts";
import { jsonError } from "./status.ts";

/** An Elysia `beforeHandle` hook: answers the early response, or undefined to let the handler run. */
export type RouteGate = (context: { request: Request }) => Response | undefined;

/** Route options for an endpoint of one API group: no body parsing, and the group's restriction. */
export interface RouteOptions {
  parse: "none";
  beforeHandle?: RouteGate;
}

/**
 * --http-restricted-api for one route: the group comes from the route the
 * router matched (never from a second reading of the URL), and a call
 * without the group's header and value gets tritonserver's 403. A header
 * sent twice reads as "a, b" and is refused like a wrong value.
 */
export function restrictionGate(group: ApiGroup, restrictions: Restrictions): RouteGate | undefined {
  const restriction = restrictions.get(group);
  if (!restriction) return undefined;
  return ({ request }) =>
    request.headers.get(restriction.key) === restriction.value
      ? undefined
      : jsonError(403, `This API is restricted, expecting header '${restriction.key}'`);
}
