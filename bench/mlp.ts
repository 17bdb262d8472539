import { buildOnnxModel, type NodeSpec } from "../tests/support/onnx-builder.ts";

export const MLP_WIDTH = 1024;

/**
 * The bench model: three fully connected 1024-wide layers with ReLU between,
 * FP32, batch dimension dynamic. Weights are seeded pseudo-random so every
 * run measures the same model. About 12 MB (width 1024), 50 MB at 2048.
 */
export function mlpModel(width = MLP_WIDTH, layers = 3, seed = 42, sharedWeights = false): Uint8Array {
  const random = seeded(seed);
  const nodes: NodeSpec[] = [];
  const initializers = [];
  let current = "INPUT0";
  for (let layer = 0; layer < layers; layer++) {
    // Shared weights: every layer reuses layer 0's, for a model that computes long but stays small.
    const own = sharedWeights ? 0 : layer;
    if (sharedWeights && layer > 0) {
      const last = layer === layers - 1;
      nodes.push({ op: "MatMul", inputs: [current, "W0"], outputs: [`M${layer}`] });
      nodes.push({ op: "Add", inputs: [`M${layer}`, "B0"], outputs: [last ? "OUTPUT0" : `A${layer}`] });
      if (!last) nodes.push({ op: "Relu", inputs: [`A${layer}`], outputs: [`R${layer}`] });
      current = `R${layer}`;
      continue;
    }
    const weights = new Float32Array(width * width);
    for (let i = 0; i < weights.length; i++) weights[i] = (random() - 0.5) * (2 / Math.sqrt(width));
    initializers.push({ name: `W${layer}`, datatype: "FP32" as const, dims: [width, width], data: weights });
    initializers.push({
      name: `B${layer}`,
      datatype: "FP32" as const,
      dims: [width],
      data: new Float32Array(width).fill(0.01),
    });
    const last = layer === layers - 1;
    nodes.push({ op: "MatMul", inputs: [current, `W${own}`], outputs: [`M${layer}`] });
    nodes.push({ op: "Add", inputs: [`M${layer}`, `B${own}`], outputs: [last ? "OUTPUT0" : `A${layer}`] });
    if (!last) nodes.push({ op: "Relu", inputs: [`A${layer}`], outputs: [`R${layer}`] });
    current = `R${layer}`;
  }
  return buildOnnxModel({
    inputs: [{ name: "INPUT0", datatype: "FP32", shape: ["batch", width] }],
    outputs: [{ name: "OUTPUT0", datatype: "FP32", shape: ["batch", width] }],
    nodes,
    initializers,
  });
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** config.pbtxt of the bench model, with or without dynamic batching. */
export function mlpConfig(name: string, batching: boolean, instances: number, intraOpThreads = 0): string {
  const threads =
    intraOpThreads > 0
      ? `parameters { key: "intra_op_thread_count" value { string_value: "${intraOpThreads}" } }`
      : "";
  return `name: "${name}"
backend: "onnxruntime"
max_batch_size: 64
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ ${MLP_WIDTH} ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ ${MLP_WIDTH} ] } ]
instance_group [ { kind: KIND_CPU count: ${instances} } ]
${batching ? "dynamic_batching { max_queue_delay_microseconds: 500 }" : ""}
${threads}
`;
}
