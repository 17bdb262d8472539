import type { TensorSpec } from "./tensor-spec.ts";

/** The parts of a loaded model a request is checked against. */
export interface ModelInterface {
  name: string;
  maxBatchSize: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}
