import { arrayTypeOf, type DataType } from "../../core/datatype.ts";
import type { SequenceControl } from "../../core/request.ts";
import type { Tensor } from "../../core/tensor.ts";
import type { ControlSpec } from "./sequence-config.ts";

/** One batch row: a request of a sequence, or an empty slot (direct strategy). */
export type RowControl = SequenceControl | undefined;

/**
 * The control tensors of one execution, one element per row: START, END,
 * READY (false for empty slots) and CORRID, encoded as the config says.
 * Shape [rows, 1] when the model batches, [1] when it does not.
 */
export function controlTensors(
  controls: readonly ControlSpec[],
  rows: readonly RowControl[],
  batched: boolean,
): Tensor[] {
  const byInput = new Map<string, Tensor>();
  for (const control of controls) {
    let tensor = byInput.get(control.input);
    if (!tensor) {
      tensor = emptyTensor(control.input, control.datatype, rows.length, batched);
      byInput.set(control.input, tensor);
    }
    rows.forEach((row, index) => {
      setElement(tensor as Tensor, index, controlValue(control, row));
    });
  }
  return [...byInput.values()];
}

function controlValue(control: ControlSpec, row: RowControl): number | bigint | string {
  if (control.role === "corrid") return row ? row.id : 0n;
  const on = control.role === "ready" ? row !== undefined : control.role === "start" ? row?.start : row?.end;
  return control.falseTrue[on ? 1 : 0];
}

function emptyTensor(name: string, datatype: DataType, rows: number, batched: boolean): Tensor {
  const shape = batched ? [rows, 1] : [1];
  if (datatype === "BYTES")
    return { name, datatype, shape, data: Array.from({ length: rows }, () => new Uint8Array(0)) };
  return { name, datatype, shape, data: new (arrayTypeOf(datatype))(rows) };
}

function setElement(tensor: Tensor, index: number, value: number | bigint | string): void {
  const data = tensor.data;
  if (Array.isArray(data)) {
    data[index] = new TextEncoder().encode(String(value));
    return;
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    data[index] = typeof value === "bigint" ? value : BigInt(value);
    return;
  }
  // 32-bit correlation ids keep their low 32 bits.
  const number = typeof value === "bigint" ? Number(BigInt.asUintN(32, value)) : Number(value);
  (data as Exclude<typeof data, BigInt64Array | BigUint64Array>)[index] = number;
}
