import { describe, expect, it } from "bun:test";
import type { DeviceInventory } from "../../src/backends/devices.ts";
import { checkDevicePins } from "../../src/repository/device-pins.ts";

const host: DeviceInventory = {
  gpus: [0, 1],
  cuda: true,
  gpuNames: { 0: "NVIDIA H200", 1: "NVIDIA A100-SXM4-80GB" },
};
const refusal = (run: () => void) => {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
};

describe("the manifest's device pins", () => {
  it("accept instances on a pinned GPU model", () => {
    expect(
      refusal(() => checkDevicePins({ gpu: ["NVIDIA H200"] }, ["gpu:0", "gpu:0"], host)),
    ).toBeUndefined();
  });

  it("refuse a GPU of another model, naming both", () => {
    expect(refusal(() => checkDevicePins({ gpu: ["NVIDIA H200"] }, ["gpu:0", "gpu:1"], host))).toBe(
      'health: validation: the promotion manifest pins GPU "NVIDIA H200", but GPU 1 of this host is "NVIDIA A100-SXM4-80GB"',
    );
  });

  it("refuse a GPU pin when the instances run on the CPU", () => {
    expect(refusal(() => checkDevicePins({ gpu: ["NVIDIA H200"] }, ["cpu"], host))).toBe(
      'health: validation: the promotion manifest pins GPU "NVIDIA H200", but the version\'s instances run on the CPU',
    );
  });

  it("pin the CPU with device cpu, and require GPUs with device gpu", () => {
    expect(refusal(() => checkDevicePins({ device: "cpu" }, ["cpu", "cpu"], host))).toBeUndefined();
    expect(refusal(() => checkDevicePins({ device: "cpu" }, ["gpu:0"], host))).toBe(
      "health: validation: the promotion manifest pins device cpu, but 1 instance(s) would run on gpu:0",
    );
    expect(refusal(() => checkDevicePins({ device: "gpu" }, ["gpu:0", "cpu"], host))).toBe(
      "health: validation: the promotion manifest requires device gpu, but 1 of 2 instance(s) would run on cpu",
    );
  });
});
