import type { Device } from "../backends/backend.ts";
import type { DeviceInventory } from "../backends/devices.ts";
import { FerryError } from "../core/errors.ts";
import type { Validation } from "./manifest.ts";

/**
 * The manifest's device pins, checked against where the instances would
 * run before any is created: `device: "gpu"` (every instance on a GPU),
 * `device: "cpu"` (none on a GPU), `gpu: [names]` (validated on these GPU
 * models: the GPUs used here must be among them — "validate on the target
 * GPU SKU").
 */
export function checkDevicePins(
  validation: Validation | undefined,
  devices: Device[],
  inventory: DeviceInventory,
): void {
  if (!validation) return;
  const onGpu = devices.filter((device) => device.startsWith("gpu:"));
  const refuse = (why: string) =>
    new FerryError("FAILED_PRECONDITION", "health", `validation: the promotion manifest ${why}`);
  if (validation.device === "gpu" && onGpu.length < devices.length) {
    throw refuse(
      `requires device gpu, but ${devices.length - onGpu.length} of ${devices.length} instance(s) would run on cpu`,
    );
  }
  if (validation.device === "cpu" && onGpu.length > 0)
    throw refuse(
      `pins device cpu, but ${onGpu.length} instance(s) would run on ${[...new Set(onGpu)].join(", ")}`,
    );
  const pinned = validation.gpu;
  if (!pinned) return;
  const allowed = pinned.map((name) => `"${name}"`).join(", ");
  if (onGpu.length === 0) throw refuse(`pins GPU ${allowed}, but the version's instances run on the CPU`);
  for (const device of new Set(onGpu)) {
    const index = Number(device.slice(4));
    const name = inventory.gpuNames?.[index];
    if (name === undefined || !pinned.includes(name)) {
      throw refuse(
        `pins GPU ${allowed}, but GPU ${index} of this host is ${name === undefined ? "of unknown model" : `"${name}"`}`,
      );
    }
  }
}
