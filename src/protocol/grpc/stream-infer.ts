import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { FerryError } from "../../core/errors.ts";
import type { InferResponse } from "../../core/request.ts";
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
  const notFinal = { triton_final_response: boolParameter(false) };
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
      const request = decodeInferRequest(message, context.signal);
      // A decoupled model streams 0..N responses per request, the last flagged final.
      let streamed = { any: false, final: false };
      const send = (response: InferResponse, last: boolean) =>
        outbox.push(
          create(ModelStreamInferResponseSchema, {
            inferResponse: encodeInferResponse(response, last ? final : notFinal),
          }),
        );
      request.onResponse = (response, last) => {
        streamed = { any: true, final: streamed.final || last };
        send(response, last);
      };
      const emptyFinal = request.parameters.triton_enable_empty_final_response === true;
      service
        .infer(request)
        .then(
          (response) => {
            if (!streamed.any)
              outbox.push(
                create(ModelStreamInferResponseSchema, {
                  inferResponse: encodeInferResponse(response, final),
                }),
              );
            else if (!streamed.final && emptyFinal) send({ ...response, outputs: [] }, true);
          },
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
