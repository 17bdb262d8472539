import { groupOfPath, type Restrictions } from "../restrictions.ts";
import { jsonError } from "./status.ts";

/** --http-restricted-api: a call to a restricted group needs its header, else 403 as tritonserver answers. */
export function withRestrictions(
  fetch: (request: Request) => Response | Promise<Response>,
  restrictions: Restrictions,
): (request: Request) => Response | Promise<Response> {
  if (restrictions.size === 0) return fetch;
  return (request) => {
    const group = groupOfPath(new URL(request.url).pathname);
    const restriction = group ? restrictions.get(group) : undefined;
    if (restriction && request.headers.get(restriction.key) !== restriction.value) {
      return jsonError(403, `This API is restricted, expecting header '${restriction.key}'`);
    }
    return fetch(request);
  };
}
