import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { runCommand } from "../../runtime/process.ts";
import type { DeviceInventory } from "../devices.ts";
import { ort } from "./ort-runtime.ts";

const CUDA_LIBRARIES = ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"];

/**
 * Which execution providers onnxruntime-node can really use here, and the
 * GPUs nvidia-smi sees. onnxruntime-node ships CPU libraries only; CUDA
 * needs its provider libraries next to the binding (see README, GPU hosts).
 */
export function detectDevices(listGpus: () => Record<number, string> = nvidiaSmiGpus): DeviceInventory {
  const binDir = bindingDir();
  const bundled =
    ort.listSupportedBackends?.().some((backend) => backend.name === "cuda" && backend.bundled) ?? false;
  const absent = binDir
    ? CUDA_LIBRARIES.filter((library) => !existsSync(join(binDir, library)))
    : CUDA_LIBRARIES;
  const cuda = bundled || absent.length === 0;
  const gpuNames = listGpus();
  const inventory: DeviceInventory = { gpus: Object.keys(gpuNames).map(Number), gpuNames, cuda };
  if (!cuda)
    inventory.cudaMissing = `${absent.join(", ")} not in ${binDir ?? "onnxruntime-node's bin folder"}`;
  return inventory;
}

/** A line for the start-up log. */
export function describeDevices(inventory: DeviceInventory): string {
  const cuda = inventory.cuda ? "cuda (available)" : `cuda (unavailable: ${inventory.cudaMissing})`;
  const named = (gpu: number) =>
    inventory.gpuNames?.[gpu] ? `${gpu} (${inventory.gpuNames[gpu]})` : String(gpu);
  const gpus = inventory.gpus.length > 0 ? inventory.gpus.map(named).join(", ") : "none";
  return `execution providers: cpu (available), ${cuda}; GPUs: ${gpus}`;
}

function bindingDir(): string | undefined {
  try {
    const packageJson = createRequire(import.meta.url).resolve("onnxruntime-node/package.json");
    return join(dirname(packageJson), "bin", "napi-v6", process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** GPU names by index from nvidia-smi, none when it is absent or fails. */
export function nvidiaSmiGpus(): Record<number, string> {
  try {
    const result = runCommand(["nvidia-smi", "--query-gpu=index,name", "--format=csv,noheader"], 5000);
    if (result.exitCode !== 0) return {};
    const gpus: Record<number, string> = {};
    for (const line of result.stdout.split("\n")) {
      const match = /^\s*([0-9]+)\s*,\s*(.+?)\s*$/.exec(line);
      if (match) gpus[Number(match[1])] = match[2] as string;
    }
    return gpus;
  } catch {
    return {};
  }
}
