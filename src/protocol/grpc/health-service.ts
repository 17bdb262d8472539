import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { type Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/health_pb.ts";
import type { InferenceService } from "../service.ts";

const WATCH_INTERVAL_MS = 500;

/**
 * grpc.health.v1.Health for Kubernetes `grpc:` probes: the empty service
 * name is server readiness, a model name is that model's readiness. Watch
 * sends the status at once and again whenever it changes.
 */
export function healthServiceImpl(service: InferenceService): ServiceImpl<typeof Health> {
  const statusOf = (name: string) => {
    const health = service.serviceHealth(name);
    if (health === "UNKNOWN") return Status.SERVICE_UNKNOWN;
    return health === "SERVING" ? Status.SERVING : Status.NOT_SERVING;
  };
  return {
    check: (request) => {
      const status = statusOf(request.service);
      if (status === Status.SERVICE_UNKNOWN)
        throw new ConnectError(`unknown service '${request.service}'`, Code.NotFound);
      return { status };
    },
    async *watch(request, context) {
      let last: Status | undefined;
      while (!context.signal.aborted) {
        const status = statusOf(request.service);
        if (status !== last) {
          last = status;
          yield { status };
        }
        await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
      }
    },
  };
}
