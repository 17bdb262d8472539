import type { DataType } from "../core/datatype.ts";

/** An input or output as the model file declares it: -1 for dynamic dims. */
export interface IoSignature {
  name: string;
  /** Undefined when the model uses a type the v2 protocol cannot carry. */
  datatype: DataType | undefined;
  /** As declared by the framework; undefined = rank unknown. */
  shape: number[] | undefined;
  /** Framework's own type name, for error messages. */
  frameworkType: string;
}

export interface ModelSignature {
  inputs: IoSignature[];
  outputs: IoSignature[];
}
