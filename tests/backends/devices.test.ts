import { describe, expect, it } from "bun:test";
import { type DeviceInventory, placeInstances } from "../../src/backends/devices.ts";
import { fillDefaults } from "../../src/config/defaults.ts";
import { readConfigText } from "../../src/config/read-config.ts";

const backend = {
  name: "onnxruntime",
  platform: "onnxruntime_onnx",
  defaultModelFilename: "model.onnx",
  defaultCpuInstanceCount: 2,
};
const withGpus: DeviceInventory = { gpus: [0, 1], cuda: true };
const noCuda: DeviceInventory = {
  gpus: [0, 1],
  cuda: false,
  cudaMissing: "libonnxruntime_providers_cuda.so missing",
};

function config(groups: string, inventory: DeviceInventory) {
  const parsed = readConfigText(`name: "m" instance_group [${groups}]`, "c");
  fillDefaults(parsed, "m", backend, inventory.cuda ? inventory.gpus : []);
  return parsed;
}

describe("placeInstances (fake provider lists)", () => {
  it("puts `count` instances on each listed GPU with the CUDA provider present", () => {
    const { placements, notes } = placeInstances(
      config("{ kind: KIND_GPU count: 2 gpus: [1] }", withGpus),
      withGpus,
      "refuse",
    );
    expect(placements).toEqual([
      { instanceName: "m_1_0", device: "gpu:1" },
      { instanceName: "m_1_1", device: "gpu:1" },
    ]);
    expect(notes).toEqual([]);
  });

  it("resolves KIND_AUTO to every GPU when CUDA is usable, and to the CPU otherwise", () => {
    expect(
      placeInstances(config("{ count: 1 }", withGpus), withGpus, "refuse").placements.map((p) => p.device),
    ).toEqual(["gpu:0", "gpu:1"]);
    expect(
      placeInstances(config("{ count: 1 }", noCuda), noCuda, "refuse").placements.map((p) => p.device),
    ).toEqual(["cpu"]);
  });

  it("refuses KIND_GPU without the CUDA provider, naming why", () => {
    expect(() => placeInstances(config("{ kind: KIND_GPU gpus: [0] }", noCuda), noCuda, "refuse")).toThrow(
      "backend: instance_group[0] asks for KIND_GPU, but the CUDA execution provider is not available (libonnxruntime_providers_cuda.so missing)",
    );
  });

  it("refuses a GPU the host does not have", () => {
    expect(() =>
      placeInstances(config("{ kind: KIND_GPU gpus: [3] }", withGpus), withGpus, "refuse"),
    ).toThrow("GPU 3 is not present (present: 0, 1)");
  });

  it("falls back to the CPU with a note under --gpu-fallback=cpu", () => {
    const { placements, notes } = placeInstances(
      config("{ kind: KIND_GPU count: 2 gpus: [0] }", noCuda),
      noCuda,
      "cpu",
    );
    expect(placements.map((placement) => placement.device)).toEqual(["cpu", "cpu"]);
    expect(notes).toEqual([
      "instance_group[0] KIND_GPU runs on the CPU: the CUDA execution provider is not available (libonnxruntime_providers_cuda.so missing) (--gpu-fallback=cpu)",
    ]);
  });
});
