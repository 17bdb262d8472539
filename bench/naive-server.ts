/**
 * The baseline a user would write: Bun.serve, one onnxruntime session, JSON
 * in and out, no batching. `bun bench/naive-server.ts <model.onnx> <port>`.
 */
import * as ort from "onnxruntime-node";

const [modelPath, port] = process.argv.slice(2);
const session = await ort.InferenceSession.create(modelPath as string);
const server = Bun.serve({
  port: Number(port),
  hostname: "127.0.0.1",
  async fetch(request) {
    const body = (await request.json()) as { inputs: { name: string; shape: number[]; data: number[] }[] };
    const input = body.inputs[0] as { name: string; shape: number[]; data: number[] };
    const result = await session.run({
      [input.name]: new ort.Tensor("float32", Float32Array.from(input.data), input.shape),
    });
    const output = result.OUTPUT0 as ort.Tensor;
    return Response.json({
      outputs: [
        {
          name: "OUTPUT0",
          datatype: "FP32",
          shape: output.dims,
          data: Array.from(output.data as Float32Array),
        },
      ],
    });
  },
});
console.log(`naive server on ${server.port}`);
