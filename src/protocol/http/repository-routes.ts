import type { Elysia } from "elysia";
import { FerryError, invalidArgument } from "../../core/errors.ts";
import type { InferenceService } from "../service.ts";
import { readBody } from "./body.ts";
import type { InflightBudget, Share } from "./inflight.ts";
import type { RouteOptions } from "./restricted.ts";
import { errorResponse } from "./status.ts";

const empty = () => new Response(null, { status: 200 });

/**
 * The model repository extension: POST /v2/repository/index,
 * /v2/repository/models/<m>/load and /unload (and tritonserver's forms
 * with a repository name, which load and unload refuse).
 */
export function addRepositoryRoutes(
  app: Elysia,
  service: InferenceService,
  limits: { maxInputBytes: number; budget: InflightBudget },
  route: RouteOptions,
): Elysia {
  const handle =
    (
      answer: (
        body: () => Promise<Record<string, unknown>>,
        params: Record<string, string>,
      ) => Promise<Response>,
    ) =>
    async ({ request, params }: { request: Request; params: Record<string, string> }) => {
      const share = limits.budget.share();
      try {
        return await answer(() => jsonBody(request, limits.maxInputBytes, share), params);
      } catch (error) {
        return errorResponse(error);
      } finally {
        share.release();
      }
    };
  const index = handle(async (body) => {
    const json = await body();
    if (json.ready !== undefined && typeof json.ready !== "boolean")
      throw invalidArgument("protocol", "'ready' must be a boolean");
    return Response.json(await service.repositoryIndex(json.ready === true));
  });
  const load = handle(async (body, params) => {
    refuseRepositoryName(params.repository);
    const parameters = parametersOf(await body());
    const files = new Map<string, Uint8Array>();
    let config: string | undefined;
    for (const [key, value] of Object.entries(parameters)) {
      if (key === "config") {
        if (typeof value !== "string")
          throw invalidArgument("protocol", "load parameter 'config' must be a JSON string");
        config = value;
      } else if (key.startsWith("file:")) {
        if (typeof value !== "string")
          throw invalidArgument("protocol", `load parameter '${key}' must be a base64 string`);
        files.set(key.slice("file:".length), Buffer.from(value, "base64"));
      } else {
        throw invalidArgument("protocol", `unknown load parameter '${key}' (config, file:<version>/<path>)`);
      }
    }
    await service.loadModel(params.model as string, config === undefined ? { files } : { config, files });
    return empty();
  });
  const unload = handle(async (body, params) => {
    refuseRepositoryName(params.repository);
    const parameters = parametersOf(await body());
    const dependents = parameters.unload_dependents;
    if (dependents !== undefined && typeof dependents !== "boolean")
      throw invalidArgument("protocol", "'unload_dependents' must be a boolean");
    service.unloadModel(params.model as string);
    return empty();
  });
  return app
    .post("/v2/repository/index", index, route)
    .post("/v2/repository/:repository/index", index, route)
    .post("/v2/repository/models/:model/load", load, route)
    .post("/v2/repository/:repository/models/:model/load", load, route)
    .post("/v2/repository/models/:model/unload", unload, route)
    .post("/v2/repository/:repository/models/:model/unload", unload, route) as unknown as Elysia;
}

function refuseRepositoryName(repository: string | undefined): void {
  if (repository)
    throw new FerryError("UNIMPLEMENTED", "protocol", "'repository_name' specification is not supported");
}

async function jsonBody(request: Request, limit: number, share: Share): Promise<Record<string, unknown>> {
  const bytes = await readBody(request, { bytes: limit, flag: "--http-max-input-size", share });
  if (bytes.byteLength === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw invalidArgument("protocol", `malformed JSON in request body: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw invalidArgument("protocol", "request body must be a JSON object");
  return parsed as Record<string, unknown>;
}

function parametersOf(body: Record<string, unknown>): Record<string, unknown> {
  const parameters = body.parameters ?? {};
  if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters)) {
    throw invalidArgument("protocol", "'parameters' must be a JSON object");
  }
  return parameters as Record<string, unknown>;
}
