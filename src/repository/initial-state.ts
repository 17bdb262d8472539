import { wireDataType } from "../config/datatypes.ts";
import { FerryError } from "../core/errors.ts";
import { type Tensor, zeroTensor } from "../core/tensor.ts";
import { decodeTensorBytes } from "../core/wire-bytes.ts";
import type { ModelConfig } from "../gen/model_config_pb.ts";

/**
 * One batch row of each implicit state's starting value: zeros (`zero_data`,
 * or no initial_state at all), or the raw contents of
 * `<model>/initial_state/<data_file>`.
 */
export async function readInitialStates(
  name: string,
  config: ModelConfig,
  readFile: (path: string) => Promise<Uint8Array | undefined>,
): Promise<Map<string, Tensor>> {
  const states = new Map<string, Tensor>();
  if (config.schedulingChoice.case !== "sequenceBatching") return states;
  for (const state of config.schedulingChoice.value.state) {
    const datatype = wireDataType(state.dataType) ?? "FP32";
    const dims = state.dims.map(Number);
    const shape = config.maxBatchSize > 0 ? [1, ...dims] : dims;
    const initial = state.initialState[0];
    const file = initial?.stateData.case === "dataFile" ? initial.stateData.value : undefined;
    if (!file) {
      states.set(state.inputName, zeroTensor(state.inputName, datatype, shape));
      continue;
    }
    const bytes = await readFile(`initial_state/${file}`);
    if (!bytes) {
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `model '${name}' state '${state.inputName}': initial_state/${file} not found`,
      );
    }
    const where = `initial state '${state.inputName}' (initial_state/${file})`;
    states.set(state.inputName, {
      name: state.inputName,
      datatype,
      shape,
      data: decodeTensorBytes(datatype, shape, bytes, where, "repository"),
    });
  }
  return states;
}
