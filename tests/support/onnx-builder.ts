/**
 * Writes small ONNX models (ModelProto in protobuf binary) for tests, the
 * bench and models/generate.ts, so nothing needs Python or the network.
 * Field numbers follow onnx.proto; only what our models use is covered.
 */
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { DataType } from "../../src/core/datatype.ts";

/** ONNX TensorProto.DataType numbers for the v2 datatypes. */
const ELEM_TYPE: Record<DataType, number> = {
  FP32: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BYTES: 8,
  BOOL: 9,
  FP16: 10,
  FP64: 11,
  UINT32: 12,
  UINT64: 13,
  BF16: 16,
};

export interface ValueInfo {
  name: string;
  datatype: DataType;
  /** A number is a fixed dim (negative = unknown); a string is a symbolic (dynamic) dim. */
  shape: (number | string)[];
}

export interface Initializer {
  name: string;
  datatype: DataType;
  dims: number[];
  /** Raw little-endian element bytes. */
  data: ArrayBufferView;
}

export type AttributeValue =
  | { int: number }
  | { float: number }
  | { ints: number[] }
  | { floats: number[] }
  | { string: string }
  | { tensor: Initializer };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeValue>;
  domain?: string;
}

export interface GraphSpec {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeSpec[];
  initializers?: Initializer[];
  opset?: number;
}

export function buildOnnxModel(spec: GraphSpec): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int64(8); // ir_version
  w.tag(2, WireType.LengthDelimited).string("ferry-tests"); // producer_name
  w.tag(7, WireType.LengthDelimited).bytes(writeGraph(spec)); // graph
  const opset = new BinaryWriter();
  opset.tag(1, WireType.LengthDelimited).string("");
  opset.tag(2, WireType.Varint).int64(spec.opset ?? 17);
  w.tag(8, WireType.LengthDelimited).bytes(opset.finish()); // opset_import
  return w.finish();
}

function writeGraph(spec: GraphSpec): Uint8Array {
  const w = new BinaryWriter();
  for (const node of spec.nodes) w.tag(1, WireType.LengthDelimited).bytes(writeNode(node));
  w.tag(2, WireType.LengthDelimited).string("graph");
  for (const init of spec.initializers ?? []) w.tag(5, WireType.LengthDelimited).bytes(writeTensor(init));
  for (const input of spec.inputs) w.tag(11, WireType.LengthDelimited).bytes(writeValueInfo(input));
  for (const output of spec.outputs) w.tag(12, WireType.LengthDelimited).bytes(writeValueInfo(output));
  return w.finish();
}

function writeNode(node: NodeSpec): Uint8Array {
  const w = new BinaryWriter();
  for (const input of node.inputs) w.tag(1, WireType.LengthDelimited).string(input);
  for (const output of node.outputs) w.tag(2, WireType.LengthDelimited).string(output);
  w.tag(3, WireType.LengthDelimited).string(`${node.op}_${node.outputs[0] ?? ""}`);
  w.tag(4, WireType.LengthDelimited).string(node.op);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    w.tag(5, WireType.LengthDelimited).bytes(writeAttribute(name, value));
  }
  if (node.domain) w.tag(7, WireType.LengthDelimited).string(node.domain);
  return w.finish();
}

function writeAttribute(name: string, value: AttributeValue): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).string(name);
  if ("int" in value) {
    w.tag(3, WireType.Varint).int64(value.int);
    w.tag(20, WireType.Varint).int32(2);
  } else if ("float" in value) {
    w.tag(2, WireType.Bit32).float(value.float);
    w.tag(20, WireType.Varint).int32(1);
  } else if ("ints" in value) {
    for (const item of value.ints) w.tag(8, WireType.Varint).int64(item);
    w.tag(20, WireType.Varint).int32(7);
  } else if ("floats" in value) {
    for (const item of value.floats) w.tag(7, WireType.Bit32).float(item);
    w.tag(20, WireType.Varint).int32(6);
  } else if ("string" in value) {
    w.tag(4, WireType.LengthDelimited).bytes(new TextEncoder().encode(value.string));
    w.tag(20, WireType.Varint).int32(3);
  } else {
    w.tag(5, WireType.LengthDelimited).bytes(writeTensor(value.tensor));
    w.tag(20, WireType.Varint).int32(4);
  }
  return w.finish();
}

function writeTensor(tensor: Initializer): Uint8Array {
  const w = new BinaryWriter();
  for (const dim of tensor.dims) w.tag(1, WireType.Varint).int64(dim);
  w.tag(2, WireType.Varint).int32(ELEM_TYPE[tensor.datatype]);
  w.tag(8, WireType.LengthDelimited).string(tensor.name);
  const bytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  w.tag(9, WireType.LengthDelimited).bytes(bytes); // raw_data
  return w.finish();
}

function writeValueInfo(info: ValueInfo): Uint8Array {
  const shape = new BinaryWriter();
  for (const dim of info.shape) {
    const d = new BinaryWriter();
    // A negative number leaves the dim unknown (neither value nor symbol).
    if (typeof dim === "string") d.tag(2, WireType.LengthDelimited).string(dim);
    else if (dim >= 0) d.tag(1, WireType.Varint).int64(dim);
    shape.tag(1, WireType.LengthDelimited).bytes(d.finish());
  }
  const tensorType = new BinaryWriter();
  tensorType.tag(1, WireType.Varint).int32(ELEM_TYPE[info.datatype]);
  tensorType.tag(2, WireType.LengthDelimited).bytes(shape.finish());
  const type = new BinaryWriter();
  type.tag(1, WireType.LengthDelimited).bytes(tensorType.finish());
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).string(info.name);
  w.tag(2, WireType.LengthDelimited).bytes(type.finish());
  return w.finish();
}

/** A model whose outputs copy its inputs: OUTPUTi = Identity(INPUTi). */
export function identityModel(datatype: DataType, shape: (number | string)[], count = 1): Uint8Array {
  const inputs = Array.from({ length: count }, (_, i) => ({ name: `INPUT${i}`, datatype, shape }));
  const outputs = Array.from({ length: count }, (_, i) => ({ name: `OUTPUT${i}`, datatype, shape }));
  const nodes = inputs.map((input, i) => ({ op: "Identity", inputs: [input.name], outputs: [`OUTPUT${i}`] }));
  return buildOnnxModel({ inputs, outputs, nodes });
}

/** Triton's classic `simple` model: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1. */
export function addSubModel(datatype: DataType, shape: (number | string)[]): Uint8Array {
  return buildOnnxModel({
    inputs: [
      { name: "INPUT0", datatype, shape },
      { name: "INPUT1", datatype, shape },
    ],
    outputs: [
      { name: "OUTPUT0", datatype, shape },
      { name: "OUTPUT1", datatype, shape },
    ],
    nodes: [
      { op: "Add", inputs: ["INPUT0", "INPUT1"], outputs: ["OUTPUT0"] },
      { op: "Sub", inputs: ["INPUT0", "INPUT1"], outputs: ["OUTPUT1"] },
    ],
  });
}

/**
 * A stateful accumulator for the sequence batcher: OUTPUT = INPUT + (START ?
 * 0 : STATE_IN), and STATE_OUT = OUTPUT, all INT32 [batch, 1]; START is BOOL.
 */
export function accumulatorModel(): Uint8Array {
  const row = (name: string, datatype: DataType) => ({ name, datatype, shape: ["batch", 1] });
  return buildOnnxModel({
    inputs: [row("INPUT", "INT32"), row("START", "BOOL"), row("STATE_IN", "INT32")],
    outputs: [row("OUTPUT", "INT32"), row("STATE_OUT", "INT32")],
    initializers: [{ name: "ZERO", datatype: "INT32", dims: [], data: new Int32Array([0]) }],
    nodes: [
      { op: "Where", inputs: ["START", "ZERO", "STATE_IN"], outputs: ["BASE"] },
      { op: "Add", inputs: ["BASE", "INPUT"], outputs: ["OUTPUT"] },
      { op: "Identity", inputs: ["OUTPUT"], outputs: ["STATE_OUT"] },
    ],
  });
}
