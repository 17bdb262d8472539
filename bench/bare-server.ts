/**
 * The floor with the model: Bun.serve and one onnxruntime session, the raw
 * FP32 body in and the raw output out, no parsing at all. What any server
 * running this model on this machine pays before doing anything of its own.
 * `bun bench/bare-server.ts <model.onnx> <port> <intra-op threads, 0 = default>`:
 * thread-pool spinning off, as ferry's sessions.
 */
import * as ort from "onnxruntime-node";

const [modelPath, port, threads] = process.argv.slice(2);
const intraOpNumThreads = Number(threads ?? 0);
const session = await ort.InferenceSession.create(modelPath as string, {
  ...(intraOpNumThreads > 0 ? { intraOpNumThreads } : {}),
  extra: { session: { intra_op: { allow_spinning: "0" } } },
});
const server = Bun.serve({
  port: Number(port),
  hostname: "127.0.0.1",
  async fetch(request) {
    const input = new Float32Array(await request.arrayBuffer());
    const result = await session.run({ INPUT0: new ort.Tensor("float32", input, [1, input.length]) });
    return new Response((result.OUTPUT0 as ort.Tensor).data as Float32Array);
  },
});
console.log(`bare server on ${server.port}`);
