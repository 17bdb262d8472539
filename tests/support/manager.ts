import { OnnxBackend } from "../../src/backends/onnxruntime/onnx-backend.ts";
import { BackendRegistry } from "../../src/backends/registry.ts";
import { silentObserver } from "../../src/core/observer.ts";
import { LocalSource } from "../../src/repository/local-source.ts";
import { ModelManager } from "../../src/repository/model-manager.ts";

/** A model manager over a local repository with the real ONNX Runtime backend. */
export function createManager(
  root: string,
  options: {
    autoComplete?: boolean;
    onLoadFailed?: (model: string, version: string, reason: string) => void;
    log?: (message: string) => void;
  } = {},
): ModelManager {
  return new ModelManager(
    {
      source: new LocalSource(root),
      backends: new BackendRegistry([new OnnxBackend({ warn: () => {} })]),
      autoComplete: options.autoComplete ?? true,
      defaultMaxBatchSize: 4,
      devices: { gpus: [], cuda: false, cudaMissing: "no CUDA in tests" },
      gpuFallback: "refuse",
      observerFor: () => silentObserver,
      onLoadFailed: options.onLoadFailed,
    },
    options.log ?? (() => {}),
  );
}
