import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { groupOfMethod, type Restrictions } from "../restrictions.ts";

/**
 * --grpc-restricted-protocol: a restricted group's calls need the metadata
 * `triton-grpc-protocol-<key>: <value>`, else UNAVAILABLE as tritonserver answers.
 */
export function restrictionError(
  restrictions: Restrictions,
  service: string,
  method: string,
  header: (name: string) => string | null | undefined,
): ConnectError | undefined {
  const group = groupOfMethod(service, method);
  const restriction = group ? restrictions.get(group) : undefined;
  if (!restriction) return undefined;
  const name = `triton-grpc-protocol-${restriction.key}`;
  if (header(name) === restriction.value) return undefined;
  return new ConnectError(`This protocol is restricted, expecting header '${name}'`, Code.Unavailable);
}

/** restrictionError for connect-node's routes (the ModelInfer fast path checks it itself). */
export function restrictionInterceptor(restrictions: Restrictions): Interceptor {
  return (next) => async (request) => {
    const error = restrictionError(restrictions, request.service.typeName, request.method.name, (name) =>
      request.header.get(name),
    );
    if (error) throw error;
    return next(request);
  };
}
