import { wireDataType } from "../config/datatypes.ts";
import { arrayTypeOf, type DataType } from "../core/datatype.ts";
import { FerryError } from "../core/errors.ts";
import { elementCount, type Tensor, zeroTensor } from "../core/tensor.ts";
import { decodeTensorBytes } from "../core/wire-bytes.ts";
import {
  ModelSequenceBatching_Control_Kind as ControlKind,
  type ModelConfig,
} from "../gen/model_config_pb.ts";

/** One warm-up sample: a full set of model inputs, run `count` times on every instance. */
export interface WarmupSample {
  name: string;
  batchSize: number;
  count: number;
  inputs: Tensor[];
  /** Zeros made up by ferry (no model_warmup): failures of the model's computation on them are advisory. */
  invented: boolean;
}

/**
 * The warm-up samples of a config: each `model_warmup` entry (zero_data,
 * random_data, input_data_file from `<model>/warmup/`), or — without any —
 * one synthetic sample of zeros for every input the model reads (variable
 * dims as 1), controls and state included. `readFile` reads warm-up files.
 */
export async function warmupSamples(
  config: ModelConfig,
  readFile: (path: string) => Promise<Uint8Array | undefined>,
): Promise<WarmupSample[]> {
  const batched = config.maxBatchSize > 0;
  if (config.modelWarmup.length === 0) {
    return [
      {
        name: "synthetic zeros",
        batchSize: 1,
        count: 1,
        invented: true,
        inputs: modelInputs(config).map((input) =>
          zeroTensor(input.name, input.datatype, rowShape(input.dims, batched, 1)),
        ),
      },
    ];
  }
  const samples: WarmupSample[] = [];
  for (const [index, warmup] of config.modelWarmup.entries()) {
    const batchSize = Math.max(1, warmup.batchSize);
    const inputs: Tensor[] = [];
    for (const [name, input] of Object.entries(warmup.inputs)) {
      const datatype = wireDataType(input.dataType);
      const where = `model_warmup[${index}].inputs['${name}']`;
      if (!datatype)
        throw new FerryError("INVALID_ARGUMENT", "config", `${where}: data_type is not a tensor datatype`);
      const shape = rowShape(input.dims.map(Number), batched, batchSize);
      const choice = input.inputDataType;
      if (choice.case === "inputDataFile") {
        const bytes = await readFile(`warmup/${choice.value}`);
        if (!bytes) throw new FerryError("NOT_FOUND", "health", `${where}: warmup/${choice.value} not found`);
        const one = rowShape(input.dims.map(Number), false, 1);
        const row = decodeTensorBytes(datatype, one, bytes, `${where} (warmup/${choice.value})`, "health");
        inputs.push(repeatRows({ name, datatype, shape: one, data: row }, shape));
      } else {
        inputs.push(
          choice.case === "randomData" && datatype !== "BYTES"
            ? randomTensor(name, datatype, shape)
            : zeroTensor(name, datatype, shape),
        );
      }
    }
    samples.push({
      name: warmup.name || `model_warmup[${index}]`,
      batchSize,
      count: Math.max(1, warmup.count),
      inputs,
      invented: false,
    });
  }
  return samples;
}

/** Every input the model file reads: the config's inputs plus sequence controls and state. */
function modelInputs(config: ModelConfig): { name: string; datatype: DataType; dims: number[] }[] {
  const inputs = config.input.map((input) => ({
    name: input.name,
    datatype: wireDataType(input.dataType) ?? "FP32",
    dims: (input.reshape ? input.reshape.shape : input.dims).map(Number),
  }));
  if (config.schedulingChoice.case !== "sequenceBatching") return inputs;
  const batching = config.schedulingChoice.value;
  for (const control of batching.controlInput) {
    const first = control.control[0];
    let datatype: DataType = "INT32";
    if (first?.kind === ControlKind.CONTROL_SEQUENCE_CORRID)
      datatype = wireDataType(first.dataType) ?? "UINT64";
    else if (first?.boolFalseTrue.length) datatype = "BOOL";
    else if (first?.fp32FalseTrue.length) datatype = "FP32";
    inputs.push({ name: control.name, datatype, dims: [1] });
  }
  for (const state of batching.state) {
    inputs.push({
      name: state.inputName,
      datatype: wireDataType(state.dataType) ?? "FP32",
      dims: state.dims.map(Number),
    });
  }
  return inputs;
}

function rowShape(dims: number[], batched: boolean, batchSize: number): number[] {
  const fixed = dims.map((dim) => (dim < 0 ? 1 : dim));
  return batched ? [batchSize, ...fixed] : fixed;
}

function randomTensor(name: string, datatype: Exclude<DataType, "BYTES">, shape: number[]): Tensor {
  const data = new (arrayTypeOf(datatype))(elementCount(shape));
  const float = datatype === "FP32" || datatype === "FP64";
  for (let at = 0; at < data.length; at++) {
    const value = float ? Math.random() : Math.floor(Math.random() * 2);
    data[at] = (typeof data[0] === "bigint" ? BigInt(value) : value) as never;
  }
  return { name, datatype, shape, data };
}

/** One row of data repeated to fill a batched shape. */
function repeatRows(row: Tensor, shape: number[]): Tensor {
  const rows = shape.length > row.shape.length ? (shape[0] ?? 1) : 1;
  if (rows === 1 && shape.length === row.shape.length) return row;
  const data = Array.isArray(row.data)
    ? Array.from({ length: rows }, () => row.data as Uint8Array[]).flat()
    : (() => {
        const out = new (row.data.constructor as new (length: number) => typeof row.data)(
          row.data.length * rows,
        );
        for (let r = 0; r < rows; r++)
          (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(
            row.data as ArrayLike<unknown>,
            r * row.data.length,
          );
        return out;
      })();
  return { ...row, shape, data };
}
