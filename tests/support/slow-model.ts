import { mlpModel } from "../../bench/mlp.ts";
import type { TestRepository } from "./model-repo.ts";

export const SLOW_WIDTH = 512;

/**
 * `slow`: twenty 512-wide layers, one instance, no batching — a few ms per
 * request with small messages, so work piles up behind it. Serve it with
 * --disable-auto-complete-config so no dynamic batching is added.
 */
export function addSlow(repo: TestRepository, name = "slow"): TestRepository {
  return repo.addModel(name, {
    config: `name: "${name}" max_batch_size: 8
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [${SLOW_WIDTH}] }] output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [${SLOW_WIDTH}] }]
instance_group [{ kind: KIND_CPU count: 1 }]
parameters { key: "intra_op_thread_count" value { string_value: "1" } }`,
    versions: { 1: mlpModel(SLOW_WIDTH, 20) },
  });
}

export function slowRequest(url: string): Promise<{ status: number; body: string }> {
  return fetch(`${url}/v2/models/slow/infer`, {
    method: "POST",
    body: JSON.stringify({
      inputs: [
        { name: "INPUT0", shape: [1, SLOW_WIDTH], datatype: "FP32", data: new Array(SLOW_WIDTH).fill(0.5) },
      ],
    }),
  }).then(async (response) => ({ status: response.status, body: await response.text() }));
}
