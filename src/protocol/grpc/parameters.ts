import { create } from "@bufbuild/protobuf";
import { invalidArgument } from "../../core/errors.ts";
import type { Scalar } from "../../core/request.ts";
import { type InferParameter, InferParameterSchema } from "../../gen/grpc_service_pb.ts";

/** Keys that may carry uint64_param; custom parameters may not (as in Triton). */
const UINT64_KEYS = new Set(["sequence_id", "priority"]);

/** gRPC InferParameter map → the scalars the core request carries. */
export function scalarsOf(parameters: Record<string, InferParameter>, where: string): Record<string, Scalar> {
  const scalars: Record<string, Scalar> = {};
  for (const [key, parameter] of Object.entries(parameters)) {
    const choice = parameter.parameterChoice;
    if (choice.case === undefined)
      throw invalidArgument("protocol", `${where} parameter '${key}' has no value`);
    if (choice.case === "uint64Param" && !UINT64_KEYS.has(key)) {
      throw invalidArgument(
        "protocol",
        `${where} parameter '${key}': uint64_param is only allowed for ${[...UINT64_KEYS].join(", ")}`,
      );
    }
    scalars[key] = choice.value;
  }
  return scalars;
}

export function boolParameter(value: boolean): InferParameter {
  return create(InferParameterSchema, { parameterChoice: { case: "boolParam", value } });
}
