/**
 * CORS for browser clients (Connect, gRPC-web, v2 REST), off unless
 * `--cors-allow-origin` names origins ("*" for any). Preflight requests are
 * answered here; other answers get the allow/expose headers added.
 */
export function withCors(
  fetch: (request: Request) => Response | Promise<Response>,
  allowedOrigins: readonly string[],
): (request: Request) => Promise<Response> {
  const anyOrigin = allowedOrigins.includes("*");
  const allowedOrigin = (request: Request) => {
    const origin = request.headers.get("origin");
    if (!origin) return undefined;
    if (anyOrigin) return "*";
    return allowedOrigins.includes(origin) ? origin : undefined;
  };
  return async (request) => {
    const origin = allowedOrigin(request);
    if (request.method === "OPTIONS" && origin && request.headers.has("access-control-request-method")) {
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": origin,
          "access-control-allow-methods": "GET, POST, OPTIONS",
          "access-control-allow-headers":
            request.headers.get("access-control-request-headers") ?? "content-type",
          "access-control-max-age": "7200",
          vary: "origin",
        },
      });
    }
    const response = await fetch(request);
    if (!origin) return response;
    const headers = new Headers(response.headers);
    headers.set("access-control-allow-origin", origin);
    headers.set(
      "access-control-expose-headers",
      "grpc-status, grpc-message, grpc-status-details-bin, inference-header-content-length, server-timing, content-encoding",
    );
    headers.append("vary", "origin");
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}
