/**
 * The entry of a TypeScript model's worker (one per instance): loads
 * model.ts, runs initialize / execute / finalize on the server's messages,
 * and bridges `context.infer` calls back to the server. Outputs go back by
 * transferring their buffers, not copying them.
 */
import type { Tensor } from "../../core/tensor.ts";
import type {
  ModelContext,
  ModelRequest,
  ModelResponse,
  TensorMap,
  TypeScriptModel,
  TypeScriptModelClass,
} from "../typescript/model-api.ts";
import { buffersOf, type FromWorker, type ToWorker, toWireError, type WireRequest } from "./messages.ts";

declare const self: Worker;

let model: TypeScriptModel | undefined;
let decoupled = false;
let nextCall = 1;
const calls = new Map<number, { resolve(outputs: TensorMap): void; reject(error: Error): void }>();
const executions = new Map<number, AbortController[]>();

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  self.postMessage(message, transfer);
}

async function load(modelFile: string): Promise<unknown> {
  const module = await import(modelFile);
  if (module.default === undefined) throw new Error(`${modelFile} has no default export`);
  return module.default;
}

function instantiate(exported: unknown): TypeScriptModel {
  const candidate = typeof exported === "function" ? new (exported as TypeScriptModelClass)() : exported;
  if (typeof (candidate as TypeScriptModel | undefined)?.execute !== "function")
    throw new Error("the default export has no execute(requests) method");
  return candidate as TypeScriptModel;
}

const toMap = (tensors: Tensor[]): TensorMap =>
  Object.fromEntries(tensors.map(({ name, ...tensor }) => [name, tensor]));

function fromMap(outputs: TensorMap, what: string): Tensor[] {
  if (typeof outputs !== "object" || outputs === null) throw new Error(`${what} is not an object of tensors`);
  return Object.entries(outputs).map(([name, tensor]) => {
    if (typeof tensor !== "object" || tensor === null || !("data" in tensor))
      throw new Error(`${what}: output '${name}' is not a tensor ({ datatype, shape, data })`);
    return { name, datatype: tensor.datatype, shape: tensor.shape, data: tensor.data };
  });
}

const context: ModelContext = {
  infer(target, inputs, options = {}) {
    const call = nextCall++;
    const message: FromWorker = {
      type: "infer",
      call,
      model: target,
      inputs: fromMap(inputs, "infer inputs"),
    };
    if (options.version !== undefined) message.version = options.version;
    if (options.outputs !== undefined) message.outputs = options.outputs;
    if (options.parameters !== undefined) message.parameters = options.parameters;
    return new Promise<TensorMap>((resolve, reject) => {
      calls.set(call, { resolve, reject });
      if (options.signal?.aborted) {
        calls.delete(call);
        return reject(new Error(`call to model '${target}' was cancelled`));
      }
      options.signal?.addEventListener("abort", () => send({ type: "cancel-infer", call }), { once: true });
      // The caller may keep using its inputs: they are copied, not transferred.
      send(message);
    });
  },
};

function toRequest(id: number, index: number, wire: WireRequest, signal: AbortSignal): ModelRequest {
  return {
    id: wire.id,
    inputs: toMap(wire.inputs),
    requestedOutputs: wire.requestedOutputs,
    parameters: wire.parameters,
    correlationId: wire.correlationId,
    sequenceStart: wire.sequenceStart,
    sequenceEnd: wire.sequenceEnd,
    signal,
    send(outputs, options = {}) {
      if (!decoupled)
        throw new Error("send() is for decoupled models (model_transaction_policy { decoupled: true })");
      const tensors = fromMap(outputs, `response to request ${index}`);
      send({ type: "sent", id, index, outputs: tensors, final: options.final === true }, buffersOf(tensors));
    },
  };
}

async function execute(id: number, wires: WireRequest[]): Promise<void> {
  const controllers = wires.map(() => new AbortController());
  executions.set(id, controllers);
  try {
    const requests = wires.map((wire, index) =>
      toRequest(id, index, wire, (controllers[index] as AbortController).signal),
    );
    const responses: (ModelResponse | undefined)[] = await (model as TypeScriptModel).execute(
      requests,
      context,
    );
    if (!Array.isArray(responses) || (!decoupled && responses.length !== requests.length))
      throw new Error(
        `execute returned ${Array.isArray(responses) ? responses.length : typeof responses} response(s) for ${requests.length} request(s)`,
      );
    const results = requests.map((_, index) => {
      const response = responses[index];
      if (response === undefined || response === null)
        return decoupled ? null : { message: `no response for request ${index}` };
      if (response instanceof Error) return toWireError(response);
      try {
        return fromMap(response, `response to request ${index}`);
      } catch (error) {
        return toWireError(error);
      }
    });
    send(
      { type: "executed", id, results },
      buffersOf(results.flatMap((result) => (Array.isArray(result) ? result : []))),
    );
  } catch (error) {
    send({ type: "execute-failed", id, error: toWireError(error) });
  } finally {
    executions.delete(id);
  }
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  try {
    switch (message.type) {
      case "init": {
        decoupled = message.decoupled;
        model = instantiate(await load(message.modelFile));
        await model.initialize?.(message.args);
        return send({ type: "ready" });
      }
      case "autocomplete": {
        const exported = (await load(message.modelFile)) as TypeScriptModelClass;
        const completed = (await exported.autoCompleteConfig?.(message.config)) ?? message.config;
        return send({ type: "autocompleted", config: completed });
      }
      case "execute":
        return await execute(message.id, message.requests);
      case "cancel":
        return executions.get(message.id)?.[message.index]?.abort();
      case "infer-result": {
        const call = calls.get(message.call);
        calls.delete(message.call);
        if (message.error)
          call?.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
        else call?.resolve(toMap(message.outputs ?? []));
        return;
      }
      case "finalize":
        await model?.finalize?.();
        return send({ type: "finalized" });
    }
  } catch (error) {
    send({ type: "failed", error: toWireError(error) });
  }
};
