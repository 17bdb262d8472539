import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { GRPCInferenceService } from "../gen/grpc_service_pb.ts";

/** How the page reaches ModelInfer on the HTTP port: both are what a browser can speak. */
export type BrowserTransport = "connect" | "grpc-web";

export interface RawTensor {
  name: string;
  datatype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** One `Server-Timing` entry: a stage and its duration. */
export interface TimingEntry {
  name: string;
  ms: number;
}

export interface InferResult {
  outputs: RawTensor[];
  timing: TimingEntry[];
  /** Round trip as the page saw it. */
  elapsedMs: number;
}

export interface InferCall {
  baseUrl: string;
  transport: BrowserTransport;
  model: string;
  version?: string;
  inputs: RawTensor[];
  /** The restricted-API header, when the user entered one. */
  headers: Record<string, string>;
}

function transportFor(transport: BrowserTransport, baseUrl: string): Transport {
  return transport === "connect"
    ? createConnectTransport({ baseUrl, useBinaryFormat: true })
    : createGrpcWebTransport({ baseUrl });
}

/** ModelInfer through connect-web with raw tensor contents; the answer's Server-Timing comes back parsed. */
export async function inferFromBrowser(call: InferCall): Promise<InferResult> {
  const client = createClient(GRPCInferenceService, transportFor(call.transport, call.baseUrl));
  let timing = "";
  const started = performance.now();
  const response = await client.modelInfer(
    {
      modelName: call.model,
      modelVersion: call.version ?? "",
      inputs: call.inputs.map((input) => ({
        name: input.name,
        datatype: input.datatype,
        shape: input.shape.map(BigInt),
      })),
      rawInputContents: call.inputs.map((input) => input.bytes),
    },
    { headers: call.headers, onHeader: (headers) => (timing = headers.get("server-timing") ?? "") },
  );
  const elapsedMs = performance.now() - started;
  return {
    outputs: response.outputs.map((output, index) => ({
      name: output.name,
      datatype: output.datatype,
      shape: output.shape.map(Number),
      bytes: response.rawOutputContents[index] ?? new Uint8Array(),
    })),
    timing: parseServerTiming(timing),
    elapsedMs,
  };
}

/** "queue;dur=0.012, compute_infer;dur=0.3" → [{ name: "queue", ms: 0.012 }, …]. */
export function parseServerTiming(header: string): TimingEntry[] {
  return header
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [name = "", ...params] = entry.split(";").map((part) => part.trim());
      const duration = params.find((param) => param.startsWith("dur="));
      return { name, ms: duration ? Number(duration.slice(4)) : 0 };
    });
}
