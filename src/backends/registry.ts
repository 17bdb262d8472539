import type { ModelConfig } from "../gen/model_config_pb.ts";
import type { Backend } from "./backend.ts";

/**
 * Picks the backend that serves a model, the way Triton reads config.pbtxt:
 * `backend` first, then `platform`, then the model files present.
 */
export class BackendRegistry {
  private readonly byName = new Map<string, Backend>();

  constructor(backends: Backend[]) {
    for (const backend of backends) this.byName.set(backend.name, backend);
  }

  /** The backend for a config, or undefined; `files` are the names inside one version directory. */
  select(config: ModelConfig, files: readonly string[]): Backend | undefined {
    if (config.backend) return this.byName.get(config.backend);
    if (config.platform)
      return [...this.byName.values()].find((backend) => backend.platform === config.platform);
    const wanted = config.defaultModelFilename;
    return [...this.byName.values()].find((backend) =>
      files.includes(wanted || backend.defaultModelFilename),
    );
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
