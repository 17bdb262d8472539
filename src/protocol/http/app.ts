import { Elysia } from "elysia";
import { configToJson } from "../../config/json.ts";
import { FerryError } from "../../core/errors.ts";
import { procedurePaths } from "../grpc/routes.ts";
import type { ApiGroup, Restrictions } from "../restrictions.ts";
import { serverTiming } from "../server-timing.ts";
import { assertVersionNumber, type InferenceService } from "../service.ts";
import { type BodyLimit, readBody } from "./body.ts";
import { compressIfAccepted } from "./compression.ts";
import { connectRoutes } from "./connect-routes.ts";
import { addConsoleRoutes } from "./console-routes.ts";
import {
  DEFAULT_MAX_JSON_BYTES,
  DEFAULT_MAX_JSON_ELEMENTS,
  decodeInferRequestOffLoop,
  HEADER_LENGTH,
  USE_BINARY,
} from "./infer-request.ts";
import { encodeInferResponse } from "./infer-response.ts";
import { INFLIGHT_BODIES, InflightBudget } from "./inflight.ts";
import { addRepositoryRoutes } from "./repository-routes.ts";
import { type RouteOptions, restrictionGate } from "./restricted.ts";
import { errorResponse, jsonError } from "./status.ts";

export interface HttpOptions {
  /** --http-max-input-size: largest request body accepted, in bytes (also after decompression). */
  maxInputBytes: number;
  /** --grpc-max-message-bytes: Connect and gRPC-web messages are held to it as well as to maxInputBytes. */
  maxMessageBytes: number;
  /** --http-max-json-bytes: largest JSON infer body, or JSON header of a binary one. */
  maxJsonBytes?: number;
  /** --http-max-json-elements: most JSON values in an infer request. */
  maxJsonElements?: number;
  /** --http-max-inflight-bytes: body bytes all requests in progress may hold (default 4 × maxInputBytes). */
  maxInflightBytes?: number;
  /** --http-restricted-api. */
  restrictions: Restrictions;
  /** --http-compress-min-bytes: smallest JSON answer compressed when the client accepts it (0: never). */
  compressMinBytes: number;
  /** --console: serve the web console at /console (off unless asked). */
  console?: boolean;
}

const MODEL = "/v2/models/:model";
const VERSIONED = "/v2/models/:model/versions/:version";

/**
 * Paths this server answers, for telling 405 (known path, wrong method) from
 * 404 only: which handler runs, and under which restriction, is the router's
 * decision alone.
 */
const KNOWN_PATHS = [
  /^\/v2$/,
  /^\/v2\/health\/(live|ready)$/,
  /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?(\/(ready|config|infer|stats))?$/,
  ...procedurePaths().map((path) => new RegExp(`^${path.replaceAll(".", "\\.")}$`)),
  /^\/v2\/repository(\/[^/]+)?\/(index|models\/[^/]+\/(load|unload))$/,
  /^\/v2\/promotions$/,
];

/**
 * The v2 REST adapter: decodes HTTP into InferenceService calls and encodes
 * their answers. Paths are matched exactly as sent: case-sensitive, no
 * trailing or doubled slash, percent-encoding decoded only inside a model
 * name or version; Bun has already resolved `.` and `..` segments in
 * `request.url`. The path is read from the URL whatever the Host header.
 *
 * HTTP/1.1 pipelining works only for answers ready within the tick: Bun.serve
 * closes, unanswered, a connection whose next request arrives while an async
 * answer (inference) is pending (tests/robustness/pipelining.test.ts).
 */
export function createHttpApp(service: InferenceService, options: HttpOptions) {
  const budget = new InflightBudget(options.maxInflightBytes ?? INFLIGHT_BODIES * options.maxInputBytes);
  const json = (body: unknown) => Response.json(body);
  const api = (group: ApiGroup): RouteOptions => {
    const gate = restrictionGate(group, options.restrictions);
    return gate ? { parse: "none", beforeHandle: gate } : { parse: "none" };
  };

  const app = new Elysia({ strictPath: true, handler: { standardHostname: false } })
    .onError(({ code, error, request }) => {
      if (code === "NOT_FOUND") {
        const path = new URL(request.url).pathname;
        return KNOWN_PATHS.some((pattern) => pattern.test(path))
          ? jsonError(405, "Method Not Allowed")
          : jsonError(404, "Not Found");
      }
      if (code === "PARSE") return jsonError(400, `malformed request body: ${(error as Error).message}`);
      return errorResponse(error);
    })
    .get("/v2/health/live", () => probe(() => service.serverLive()), api("health"))
    .get(
      "/v2/health/ready",
      ({ query }) =>
        query.verbose === "true" || query.verbose === "1"
          ? guard(() => {
              const report = service.readinessReport();
              return Response.json(report, { status: report.ready ? 200 : 400 });
            })
          : probe(() => service.serverReady()),
      api("health"),
    )
    .get("/v2", () => json(service.serverMetadata()), api("metadata"))
    // ferry's own: canary splits and promotion history, for the console.
    .get("/v2/promotions", () => guard(() => json(service.promotions())), api("metadata"))
    .get(MODEL, ({ params }) => guard(() => json(service.modelMetadata(params.model))), api("metadata"))
    .get(
      VERSIONED,
      ({ params }) => guard(() => json(service.modelMetadata(params.model, params.version))),
      api("metadata"),
    )
    .get(`${MODEL}/ready`, ({ params }) => probe(() => service.modelReady(params.model)), api("health"))
    .get(
      `${VERSIONED}/ready`,
      ({ params }) => probe(() => service.modelReady(params.model, params.version)),
      api("health"),
    )
    .get("/v2/models/stats", () => guard(() => json(service.modelStatistics())), api("statistics"))
    .get(
      `${MODEL}/stats`,
      ({ params }) => guard(() => json(service.modelStatistics(params.model))),
      api("statistics"),
    )
    .get(
      `${VERSIONED}/stats`,
      ({ params }) => guard(() => json(service.modelStatistics(params.model, params.version))),
      api("statistics"),
    )
    .get(
      `${MODEL}/config`,
      ({ params }) => guard(() => json(configToJson(service.modelConfig(params.model)))),
      api("model-config"),
    )
    .get(
      `${VERSIONED}/config`,
      ({ params }) => guard(() => json(configToJson(service.modelConfig(params.model, params.version)))),
      api("model-config"),
    )
    .post(
      `${MODEL}/infer`,
      ({ params, request }) => infer(service, options, budget, request, params.model),
      api("inference"),
    )
    .post(
      `${VERSIONED}/infer`,
      ({ params, request }) => infer(service, options, budget, request, params.model, params.version),
      api("inference"),
    );
  // Port 8000's body limit holds for Connect and gRPC-web too, not only the gRPC port's.
  const connectMax = Math.min(options.maxInputBytes, options.maxMessageBytes);
  for (const route of connectRoutes(service, connectMax)) {
    if (!route.group) throw new Error(`no API group for ${route.path}`);
    app.post(
      route.path,
      async ({ request }) => {
        // Connect reads the body itself: the share is what it may read, taken before it does.
        const share = budget.share();
        try {
          const declared = request.headers.get("content-length");
          share.take(declared === null ? connectMax : Math.min(Number(declared), connectMax));
          return await route.handle(request);
        } catch (error) {
          return errorResponse(error);
        } finally {
          share.release();
        }
      },
      api(route.group),
    );
  }
  if (options.console) addConsoleRoutes(app as unknown as Elysia);
  addRepositoryRoutes(
    app as unknown as Elysia,
    service,
    { maxInputBytes: options.maxInputBytes, budget },
    api("model-repository"),
  );
  return app;
}

/** Health answers carry their result in the status code only: 200 true, 400 false. */
function probe(check: () => boolean): Response {
  return guard(() => new Response(null, { status: check() ? 200 : 400 }));
}

function guard(answer: () => Response): Response {
  try {
    return answer();
  } catch (error) {
    return errorResponse(error);
  }
}

async function infer(
  service: InferenceService,
  options: HttpOptions,
  budget: InflightBudget,
  httpRequest: Request,
  model: string,
  version?: string,
): Promise<Response> {
  const share = budget.share();
  try {
    assertVersionNumber(version);
    if (!model) throw undecodableName(httpRequest.url);
    const maxJsonBytes = options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
    const headerLength = httpRequest.headers.get(HEADER_LENGTH);
    // A body without Inference-Header-Content-Length is all JSON: it is held to the JSON limit as it arrives.
    const limit: BodyLimit =
      headerLength === null && maxJsonBytes < options.maxInputBytes
        ? { bytes: maxJsonBytes, flag: "--http-max-json-bytes", hint: USE_BINARY, share }
        : { bytes: options.maxInputBytes, flag: "--http-max-input-size", share };
    const body = await readBody(httpRequest, limit);
    const { request, binaryOutputs } = await decodeInferRequestOffLoop(body, headerLength, {
      model,
      version,
      signal: httpRequest.signal,
      modelInterface: () => service.resolveModel(model, version).model,
      maxJsonBytes,
      maxJsonElements: options.maxJsonElements ?? DEFAULT_MAX_JSON_ELEMENTS,
    });
    const response = await service.infer(request);
    const encoded = encodeInferResponse(response, binaryOutputs);
    const headers: Record<string, string> = { "server-timing": serverTiming(request.timing) };
    if (encoded.headerLength === undefined) {
      headers["content-type"] = "application/json";
    } else {
      headers["content-type"] = "application/octet-stream";
      headers[HEADER_LENGTH] = String(encoded.headerLength);
    }
    // Binary tensor data is never compressed: it rarely shrinks, and it is what clients pick for speed.
    if (encoded.headerLength !== undefined) return new Response(encoded.body, { headers });
    return compressIfAccepted(
      encoded.body,
      headers,
      httpRequest.headers.get("accept-encoding"),
      options.compressMinBytes,
    );
  } catch (error) {
    return errorResponse(error);
  } finally {
    share.release();
  }
}

/**
 * The router leaves the model name empty when its percent-encoding is
 * broken (`%zz`): say so, with the name as sent, rather than "missing".
 */
function undecodableName(url: string): FerryError {
  const sent = /^\/v2\/models\/([^/]*)/.exec(new URL(url).pathname)?.[1] ?? "";
  return new FerryError(
    "INVALID_ARGUMENT",
    "protocol",
    sent
      ? `model name '${sent}' in the path is not valid percent-encoding`
      : "Missing model name in ModelInfer request",
  );
}
