import { Code, ConnectError } from "@connectrpc/connect";
import { type ErrorCode, FerryError } from "../../core/errors.ts";

/** FerryError code → gRPC status code: the codes share gRPC's names, so the table is one to one. */
const CODE: Record<ErrorCode, Code> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  PERMISSION_DENIED: Code.PermissionDenied,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  UNIMPLEMENTED: Code.Unimplemented,
  UNAVAILABLE: Code.Unavailable,
  CANCELLED: Code.Canceled,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  INTERNAL: Code.Internal,
};

/** Any failure as the ConnectError the gRPC, gRPC-web and Connect handlers answer with. */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  const failure = FerryError.from(error, "protocol");
  return new ConnectError(failure.message, CODE[failure.code], undefined, undefined, failure);
}

/** Runs a handler body, turning its failures into ConnectErrors. */
export async function answer<T>(body: () => T | Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toConnectError(error);
  }
}
