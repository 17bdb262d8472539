import { FerryError } from "../core/errors.ts";
import { ModelInstanceGroup_Kind as Kind, type ModelConfig } from "../gen/model_config_pb.ts";
import type { Device } from "./backend.ts";

/** What this host can run on, found once at start-up. */
export interface DeviceInventory {
  /** GPU ids (nvidia-smi indices). */
  gpus: number[];
  /** GPU model names by index, as nvidia-smi reports them ("NVIDIA H200"). */
  gpuNames?: Record<number, string>;
  /** The CUDA execution provider's libraries are present. */
  cuda: boolean;
  /** Why CUDA is not usable, for error messages. */
  cudaMissing?: string;
}

/** `--gpu-fallback`: what a KIND_GPU group gets when it cannot have a GPU. */
export type GpuFallback = "refuse" | "cpu";

export interface Placement {
  instanceName: string;
  device: Device;
}

/**
 * One placement per instance: `count` per listed GPU for KIND_GPU, `count`
 * in all for KIND_CPU. A KIND_GPU group on a host without CUDA (or without
 * the GPUs it names) is refused with the reason, or placed on the CPU with
 * a note under --gpu-fallback=cpu.
 */
export function placeInstances(
  config: ModelConfig,
  inventory: DeviceInventory,
  fallback: GpuFallback,
): { placements: Placement[]; notes: string[] } {
  const placements: Placement[] = [];
  const notes: string[] = [];
  config.instanceGroup.forEach((group, index) => {
    const path = `instance_group[${index}]`;
    if (group.kind !== Kind.GPU) {
      for (let i = 0; i < group.count; i++)
        placements.push({ instanceName: `${group.name}_${i}`, device: "cpu" });
      return;
    }
    const missing = gpuProblem(group.gpus, inventory);
    if (missing) {
      if (fallback === "refuse") {
        throw new FerryError(
          "UNAVAILABLE",
          "backend",
          `${path} asks for KIND_GPU, but ${missing} (--gpu-fallback=cpu would run it on the CPU)`,
        );
      }
      notes.push(`${path} KIND_GPU runs on the CPU: ${missing} (--gpu-fallback=cpu)`);
      const copies = Math.max(1, group.gpus.length) * group.count;
      for (let i = 0; i < copies; i++) placements.push({ instanceName: `${group.name}_${i}`, device: "cpu" });
      return;
    }
    for (const gpu of group.gpus) {
      for (let i = 0; i < group.count; i++)
        placements.push({ instanceName: `${group.name}_${gpu}_${i}`, device: `gpu:${gpu}` });
    }
  });
  return { placements, notes };
}

function gpuProblem(requested: number[], inventory: DeviceInventory): string | undefined {
  if (!inventory.cuda)
    return `the CUDA execution provider is not available (${inventory.cudaMissing ?? "no CUDA libraries"})`;
  if (inventory.gpus.length === 0) return "no GPU was found";
  if (requested.length === 0) return "the group lists no GPUs";
  const absent = requested.filter((gpu) => !inventory.gpus.includes(gpu));
  if (absent.length > 0)
    return `GPU ${absent.join(", ")} is not present (present: ${inventory.gpus.join(", ")})`;
  return undefined;
}
