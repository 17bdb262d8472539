import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { FerryError } from "../../core/errors.ts";
import {
  type ModelInferRequest,
  ModelInferResponseSchema,
  type ModelStreamInferResponse,
  ModelStreamInferResponseSchema,
} from "../../gen/grpc_service_pb.ts";
import type { InferenceService } from "../service.ts";
import { AsyncQueue } from "./async-queue.ts";
import { decodeInferRequest, encodeInferResponse } from "./infer-codec.ts";
import { boolParameter } from "./parameters.ts";
import { toConnectError } from "./status.ts";

/**
 * ModelStreamInfer: every request on the stream starts as soon as it
 * arrives (in order, so a sequence keeps its order) and its answer is sent
 * when ready, matched by `id`. A failed request is answered in-band with
 * `error_message` and the stream stays open — unless the client opened it
 * with the `triton_grpc_error: true` header, when the first error ends the
 * stream with its status code.
 */
export async function* streamInfer(
  service: InferenceService,
  requests: AsyncIterable<ModelInferRequest>,
  context: HandlerContext,
): AsyncGenerator<ModelStreamInferResponse> {
  const strict = context.requestHeader.get("triton_grpc_error")?.toLowerCase() === "true";
  const outbox = new AsyncQueue<ModelStreamInferResponse>();
  const final = { triton_final_response: boolParameter(true) };
  let running = 0;
  let inputEnded = false;
  const settle = () => {
    running--;
    if (inputEnded && running === 0) outbox.close();
  };
  const reportError = (message: ModelInferRequest, error: unknown) => {
    if (strict) {
      outbox.fail(toConnectError(error));
      return;
    }
    const failure = FerryError.from(error, "protocol");
    outbox.push(
      create(ModelStreamInferResponseSchema, {
        errorMessage: failure.message,
        inferResponse: create(ModelInferResponseSchema, {
          modelName: message.modelName,
          modelVersion: message.modelVersion,
          id: message.id,
          parameters: final,
        }),
      }),
    );
  };
  const start = (message: ModelInferRequest) => {
    running++;
    try {
      service
        .infer(decodeInferRequest(message, context.signal))
        .then(
          (response) =>
            outbox.push(
              create(ModelStreamInferResponseSchema, { inferResponse: encodeInferResponse(response, final) }),
            ),
          (error: unknown) => reportError(message, error),
        )
        .finally(settle);
    } catch (error) {
      reportError(message, error);
      settle();
    }
  };
  void (async () => {
    try {
      for await (const message of requests) start(message);
    } catch (error) {
      outbox.fail(toConnectError(error));
    } finally {
      inputEnded = true;
      if (running === 0) outbox.close();
    }
  })();
  yield* outbox;
}
