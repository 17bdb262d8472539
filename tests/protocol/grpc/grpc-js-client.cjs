// An independent gRPC client: @grpc/grpc-js under Node.js, loading ferry's
// .proto files at run time (no generated code). Runs the scenario named on
// the command line against 127.0.0.1:<port> and prints one JSON result.
// Usage: node grpc-js-client.cjs <port> <scenario> [json argument]
const path = require("node:path");
const grpc = require("@grpc/grpc-js");
const loader = require("@grpc/proto-loader");

const [port, scenario, argument] = process.argv.slice(2);
const protoDir = path.join(__dirname, "../../../proto");
const definition = loader.loadSync(["grpc_service.proto", "health.proto"], {
  includeDirs: [protoDir],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const loaded = grpc.loadPackageDefinition(definition);
const address = `127.0.0.1:${port}`;
const options = { "grpc.max_send_message_length": -1, "grpc.max_receive_message_length": -1 };
const inference = new loaded.inference.GRPCInferenceService(
  address,
  grpc.credentials.createInsecure(),
  options,
);
const health = new loaded.grpc.health.v1.Health(address, grpc.credentials.createInsecure());

function call(client, method, request, metadata = new grpc.Metadata()) {
  return new Promise((resolve) => {
    client[method](request, metadata, (error, response) => {
      if (error) resolve({ code: error.code, details: error.details });
      else resolve({ code: 0, response });
    });
  });
}

const raw = (values, Type) => Buffer.from(new Type(values).buffer);

async function stream(requests, metadata = new grpc.Metadata()) {
  const responses = [];
  const call = inference.ModelStreamInfer(metadata);
  const done = new Promise((resolve) => {
    call.on("data", (message) => responses.push(message));
    call.on("error", (error) => resolve({ code: error.code, details: error.details }));
    call.on("end", () => resolve({ code: 0 }));
  });
  for (const request of requests) call.write(request);
  call.end();
  const status = await done;
  return { status, responses };
}

const scenarios = {
  async unary() {
    return {
      live: await call(inference, "ServerLive", {}),
      ready: await call(inference, "ServerReady", {}),
      metadata: await call(inference, "ServerMetadata", {}),
      modelReady: await call(inference, "ModelReady", { name: "simple", version: "" }),
      modelMetadata: await call(inference, "ModelMetadata", { name: "simple", version: "1" }),
      config: await call(inference, "ModelConfig", { name: "simple", version: "" }),
      statistics: await call(inference, "ModelStatistics", { name: "simple", version: "" }),
      repositoryIndex: await call(inference, "RepositoryIndex", {}),
      sharedMemory: await call(inference, "SystemSharedMemoryStatus", {}),
      cudaSharedMemory: await call(inference, "CudaSharedMemoryRegister", { name: "r" }),
      healthServer: await call(health, "Check", { service: "" }),
      healthModel: await call(health, "Check", { service: "simple" }),
      healthUnknown: await call(health, "Check", { service: "nope" }),
    };
  },
  async infer() {
    const a = Array.from({ length: 16 }, (_, i) => i);
    const b = Array.from({ length: 16 }, () => 2);
    const rawCall = await call(inference, "ModelInfer", {
      model_name: "simple",
      id: "raw-1",
      inputs: [
        { name: "INPUT0", datatype: "INT32", shape: [1, 16] },
        { name: "INPUT1", datatype: "INT32", shape: [1, 16] },
      ],
      raw_input_contents: [raw(a, Int32Array), raw(b, Int32Array)],
    });
    const contentsCall = await call(inference, "ModelInfer", {
      model_name: "simple",
      inputs: [
        { name: "INPUT0", datatype: "INT32", shape: [1, 16], contents: { int_contents: a } },
        { name: "INPUT1", datatype: "INT32", shape: [1, 16], contents: { int_contents: b } },
      ],
      outputs: [{ name: "OUTPUT1" }],
    });
    const decode = (result) =>
      result.response
        ? {
            id: result.response.id,
            outputs: result.response.outputs.map((output) => ({ name: output.name, shape: output.shape })),
            values: result.response.raw_output_contents.map((bytes) =>
              Array.from(
                new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
              ),
            ),
          }
        : result;
    return { raw: decode(rawCall), contents: decode(contentsCall) };
  },
  async datatypes() {
    // argument: [{ datatype, model, hex }]: echo raw bytes through identity models.
    const results = {};
    for (const { datatype, model, hex, count } of JSON.parse(argument)) {
      const result = await call(inference, "ModelInfer", {
        model_name: model,
        inputs: [{ name: "INPUT0", datatype, shape: [1, count] }],
        raw_input_contents: [Buffer.from(hex, "hex")],
      });
      results[datatype] = result.response
        ? {
            datatype: result.response.outputs[0].datatype,
            shape: result.response.outputs[0].shape,
            hex: Buffer.from(result.response.raw_output_contents[0]).toString("hex"),
          }
        : result;
    }
    return results;
  },
  async stream() {
    const requests = Array.from({ length: 100 }, (_, i) => ({
      model_name: "simple",
      id: `s${i}`,
      inputs: [
        { name: "INPUT0", datatype: "INT32", shape: [1, 16] },
        { name: "INPUT1", datatype: "INT32", shape: [1, 16] },
      ],
      raw_input_contents: [raw(new Array(16).fill(i), Int32Array), raw(new Array(16).fill(1), Int32Array)],
    }));
    requests.splice(50, 0, { model_name: "nope", id: "bad" });
    const { status, responses } = await stream(requests);
    return {
      status,
      responses: responses.map((message) => ({
        error: message.error_message,
        id: message.infer_response?.id,
        final: message.infer_response?.parameters?.triton_final_response?.bool_param,
        first: message.infer_response?.raw_output_contents?.[0]
          ? new Int32Array(new Uint8Array(message.infer_response.raw_output_contents[0]).buffer)[0]
          : undefined,
      })),
    };
  },
  async strictStream() {
    const metadata = new grpc.Metadata();
    metadata.set("triton_grpc_error", "true");
    return stream([{ model_name: "nope", id: "x" }], metadata);
  },
  async sequence() {
    const requests = [5, 3, 2].map((value, i) => ({
      model_name: "accumulator",
      id: `q${i}`,
      parameters: {
        sequence_id: { int64_param: "42" },
        sequence_start: { bool_param: i === 0 },
        sequence_end: { bool_param: i === 2 },
      },
      inputs: [{ name: "INPUT", datatype: "INT32", shape: [1, 1] }],
      raw_input_contents: [raw([value], Int32Array)],
    }));
    const { status, responses } = await stream(requests);
    return {
      status,
      totals: responses.map(
        (message) => new Int32Array(new Uint8Array(message.infer_response.raw_output_contents[0]).buffer)[0],
      ),
    };
  },
  async oversize() {
    // argument: number of bytes for one UINT8 input of identity_uint8.
    const size = Number(argument);
    return call(inference, "ModelInfer", {
      model_name: "identity_uint8",
      inputs: [{ name: "INPUT0", datatype: "UINT8", shape: [1, size] }],
      raw_input_contents: [Buffer.alloc(size)],
    });
  },
  async bad() {
    // argument: [{ title, request }]: each ModelInfer's status code and message.
    const results = {};
    for (const { title, request } of JSON.parse(argument)) {
      const decoded = {
        ...request,
        raw_input_contents: (request.raw_input_contents ?? []).map((hex) => Buffer.from(hex, "hex")),
      };
      results[title] = await call(inference, "ModelInfer", decoded);
    }
    return results;
  },
};

scenarios[scenario]().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    inference.close();
    health.close();
  },
  (error) => {
    process.stdout.write(`${JSON.stringify({ crashed: String(error) })}\n`);
    process.exit(1);
  },
);
