import { FerryError } from "../core/errors.ts";
import type { FileDigest } from "./manifest.ts";
import type { LocalVersionDir, ModelListing, ModelSource, PinnedFiles } from "./source.ts";

/**
 * Several `--model-repository` roots seen as one. A model name must be
 * unique across them: a name found in two roots is an error for that model.
 */
export class CombinedSource implements ModelSource {
  readonly location: string;

  constructor(private readonly sources: ModelSource[]) {
    this.location = sources.map((source) => source.location).join(", ");
  }

  async list(): Promise<string[]> {
    const names = new Set<string>();
    for (const source of this.sources) for (const name of await source.list()) names.add(name);
    return [...names].sort();
  }

  describe(model: string): Promise<ModelListing> {
    return this.owner(model).then((source) => source.describe(model));
  }

  materialize(model: string, version: string, pinned?: PinnedFiles): Promise<LocalVersionDir> {
    return this.owner(model).then((source) => source.materialize(model, version, pinned));
  }

  readModelFile(model: string, relativePath: string, pinned?: FileDigest): Promise<Uint8Array | undefined> {
    return this.owner(model).then((source) => source.readModelFile(model, relativePath, pinned));
  }

  close(): void {
    for (const source of this.sources) source.close?.();
  }

  private async owner(model: string): Promise<ModelSource> {
    const owners: ModelSource[] = [];
    for (const source of this.sources) if ((await source.list()).includes(model)) owners.push(source);
    const [first, second] = owners;
    if (!first) throw new FerryError("NOT_FOUND", "repository", `model '${model}' is in no model repository`);
    if (second) {
      const places = owners.map((source) => source.location).join(", ");
      throw new FerryError(
        "ALREADY_EXISTS",
        "repository",
        `model '${model}' appears in more than one repository: ${places}`,
      );
    }
    return first;
  }
}
