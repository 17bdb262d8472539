/**
 * Adds `Connection: close` to every answer once `draining()` is true, so
 * keep-alive clients open a new connection (to another instance) instead
 * of reusing this one until the listener closes under them.
 */
export function closeConnectionsWhen(
  fetch: (request: Request) => Response | Promise<Response>,
  draining: () => boolean,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const response = await fetch(request);
    if (!draining()) return response;
    try {
      response.headers.set("connection", "close");
      return response;
    } catch {
      // Immutable headers (a Response from fetch): copy them.
      const headers = new Headers(response.headers);
      headers.set("connection", "close");
      return new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers,
      });
    }
  };
}
