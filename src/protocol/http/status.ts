import { FerryError } from "../../core/errors.ts";
import { BusyError } from "./inflight.ts";

/**
 * FerryError code → HTTP status, as tritonserver maps its error codes
 * (anything not listed is 400). An oversize body is the one
 * RESOURCE_EXHAUSTED that is the client's fault: 413.
 */
export function httpStatusOf(error: FerryError): number {
  switch (error.code) {
    case "NOT_FOUND":
      return 404;
    case "UNAVAILABLE":
      return 503;
    case "RESOURCE_EXHAUSTED":
      return error.layer === "protocol" ? 413 : 503;
    case "UNIMPLEMENTED":
      return 501;
    case "PERMISSION_DENIED":
      return 403;
    case "INTERNAL":
      return 500;
    default:
      return 400;
  }
}

export function jsonError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: message }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function errorResponse(error: unknown): Response {
  const failure = FerryError.from(error, "protocol");
  const headers: Record<string, string> =
    failure instanceof BusyError ? { "retry-after": String(failure.retryAfterSecs) } : {};
  return jsonError(httpStatusOf(failure), failure.message, headers);
}
