import {
  DataType as ConfigType,
  ModelSequenceBatching_Control_Kind as ControlKind,
  type ModelConfig,
  type ModelSequenceBatching,
} from "../gen/model_config_pb.ts";
import { configTypeName, wireDataType } from "./datatypes.ts";
import { sequenceTensorNames } from "./sequence-names.ts";

type Report = (path: string, message: string) => void;

const CORRID_TYPES = new Set([
  ConfigType.TYPE_UINT64,
  ConfigType.TYPE_INT64,
  ConfigType.TYPE_UINT32,
  ConfigType.TYPE_INT32,
  ConfigType.TYPE_STRING,
]);

/** Checks `sequence_batching`: controls, states, and that clients are not asked for the tensors it feeds. */
export function checkSequenceBatching(
  config: ModelConfig,
  batching: ModelSequenceBatching,
  report: Report,
): void {
  const seen = new Set<string>();
  batching.controlInput.forEach((input, index) => {
    const path = `sequence_batching.control_input[${index}]`;
    if (!input.name) report(`${path}.name`, "must not be empty");
    if (seen.has(input.name)) report(`${path}.name`, `duplicate control input '${input.name}'`);
    seen.add(input.name);
    if (input.control.length === 0) report(`${path}.control`, "must list at least one control");
    input.control.forEach((control, at) => {
      const where = `${path}.control[${at}]`;
      if (control.kind === ControlKind.CONTROL_SEQUENCE_CORRID) {
        if (!CORRID_TYPES.has(control.dataType)) {
          report(
            `${where}.data_type`,
            `CORRID needs TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 or TYPE_STRING, got ${configTypeName(control.dataType)}`,
          );
        }
        return;
      }
      const lists = [control.int32FalseTrue, control.fp32FalseTrue, control.boolFalseTrue].filter(
        (list) => list.length > 0,
      );
      if (lists.length !== 1 || lists[0]?.length !== 2) {
        report(
          where,
          "needs exactly one of int32_false_true, fp32_false_true, bool_false_true, with two values [false, true]",
        );
      }
    });
  });
  batching.state.forEach((state, index) => {
    const path = `sequence_batching.state[${index}]`;
    if (!state.inputName) report(`${path}.input_name`, "must not be empty");
    if (!state.outputName) report(`${path}.output_name`, "must not be empty");
    if (wireDataType(state.dataType) === undefined)
      report(`${path}.data_type`, `${configTypeName(state.dataType)} is not a tensor datatype`);
    if (state.dims.length === 0 || state.dims.some((dim) => dim < 1n)) {
      report(`${path}.dims`, `must be fixed positive dims, got [${state.dims.join(",")}]`);
    }
    if (seen.has(state.inputName))
      report(`${path}.input_name`, `'${state.inputName}' is already a control input`);
    seen.add(state.inputName);
  });
  if (batching.strategyChoice.case === "oldest" && batching.strategyChoice.value.maxCandidateSequences < 0) {
    report("sequence_batching.oldest.max_candidate_sequences", "must be >= 0");
  }
  if (batching.iterativeSequence) report("sequence_batching.iterative_sequence", "is not supported");
  const { fed, kept } = sequenceTensorNames(config);
  config.input.forEach((input, index) => {
    if (fed.has(input.name))
      report(`input[${index}]`, `'${input.name}' is fed by sequence_batching; do not list it as an input`);
  });
  config.output.forEach((output, index) => {
    if (kept.has(output.name))
      report(`output[${index}]`, `'${output.name}' is sequence state; do not list it as an output`);
  });
}
