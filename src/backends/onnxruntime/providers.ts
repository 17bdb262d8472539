import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { DeviceInventory } from "../devices.ts";
import { ort } from "./ort-runtime.ts";

const CUDA_LIBRARIES = ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"];

/**
 * Which execution providers onnxruntime-node can really use here, and the
 * GPUs nvidia-smi sees. onnxruntime-node ships CPU libraries only; CUDA
 * needs its provider libraries next to the binding (see README, GPU hosts).
 */
export function detectDevices(listGpus: () => number[] = nvidiaSmiGpus): DeviceInventory {
  const binDir = bindingDir();
  const bundled =
    ort.listSupportedBackends?.().some((backend) => backend.name === "cuda" && backend.bundled) ?? false;
  const absent = binDir
    ? CUDA_LIBRARIES.filter((library) => !existsSync(join(binDir, library)))
    : CUDA_LIBRARIES;
  const cuda = bundled || absent.length === 0;
  const inventory: DeviceInventory = { gpus: listGpus(), cuda };
  if (!cuda)
    inventory.cudaMissing = `${absent.join(", ")} not in ${binDir ?? "onnxruntime-node's bin folder"}`;
  return inventory;
}

/** A line for the start-up log. */
export function describeDevices(inventory: DeviceInventory): string {
  const cuda = inventory.cuda ? "cuda (available)" : `cuda (unavailable: ${inventory.cudaMissing})`;
  const gpus = inventory.gpus.length > 0 ? inventory.gpus.join(", ") : "none";
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

/** GPU indices from nvidia-smi, none when it is absent or fails. */
export function nvidiaSmiGpus(): number[] {
  try {
    const result = Bun.spawnSync(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"], {
      timeout: 5000,
    });
    if (result.exitCode !== 0) return [];
    return result.stdout
      .toString()
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => /^[0-9]+$/.test(line))
      .map(Number);
  } catch {
    return [];
  }
}
