import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { groupOfMethod, type Restrictions } from "../restrictions.ts";

/**
 * --grpc-restricted-protocol: a restricted group's calls need the metadata
 * `triton-grpc-protocol-<key>: <value>`, else UNAVAILABLE as tritonserver answers.
 */
export function restrictionInterceptor(restrictions: Restrictions): Interceptor {
  return (next) => async (request) => {
    const group = groupOfMethod(request.service.typeName, request.method.name);
    const restriction = group ? restrictions.get(group) : undefined;
    if (restriction) {
      const header = `triton-grpc-protocol-${restriction.key}`;
      if (request.header.get(header) !== restriction.value) {
        throw new ConnectError(`This protocol is restricted, expecting header '${header}'`, Code.Unavailable);
      }
    }
    return next(request);
  };
}
