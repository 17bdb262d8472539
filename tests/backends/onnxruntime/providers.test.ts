import { expect, it } from "bun:test";
import { describeDevices, detectDevices } from "../../../src/backends/onnxruntime/providers.ts";

it("reports CPU only and why CUDA is missing on a host without CUDA libraries", () => {
  const inventory = detectDevices(() => ({ 0: "NVIDIA H200" }));
  expect(inventory.cuda).toBe(false);
  expect(inventory.gpus).toEqual([0]);
  expect(inventory.gpuNames).toEqual({ 0: "NVIDIA H200" });
  expect(inventory.cudaMissing).toMatch(
    /libonnxruntime_providers_cuda\.so not in .*onnxruntime-node\/bin\/napi-v6/,
  );
  expect(describeDevices(inventory)).toMatch(
    /^execution providers: cpu \(available\), cuda \(unavailable: .*\); GPUs: 0 \(NVIDIA H200\)$/,
  );
});

it("describes a host with CUDA and GPUs", () => {
  expect(describeDevices({ gpus: [0, 1], cuda: true })).toBe(
    "execution providers: cpu (available), cuda (available); GPUs: 0, 1",
  );
});
