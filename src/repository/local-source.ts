import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { FerryError } from "../core/errors.ts";
import {
  isSafeModelName,
  isVersionDirName,
  type LocalVersionDir,
  type ModelListing,
  type ModelSource,
} from "./source.ts";

/** A model repository on local disk. */
export class LocalSource implements ModelSource {
  readonly location: string;
  private readonly root: string;

  constructor(root: string) {
    this.location = root;
    this.root = resolve(root);
  }

  async list(): Promise<string[]> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (error) {
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `cannot read model repository ${this.location}: ${reason(error)}`,
      );
    }
    const names: string[] = [];
    for (const entry of entries) {
      if (!isSafeModelName(entry.name)) continue;
      if (
        entry.isDirectory() ||
        (entry.isSymbolicLink() && (await isDirectory(join(this.root, entry.name))))
      ) {
        names.push(entry.name);
      }
    }
    return names.sort();
  }

  async describe(model: string): Promise<ModelListing> {
    const dir = this.modelDir(model);
    if (!(await isDirectory(dir))) {
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `model '${model}' is not in repository ${this.location}`,
      );
    }
    const entries = await readdir(dir, { withFileTypes: true });
    const versions: number[] = [];
    for (const entry of entries) {
      if (isVersionDirName(entry.name) && (await isDirectory(join(dir, entry.name))))
        versions.push(Number(entry.name));
    }
    const configPath = join(dir, "config.pbtxt");
    let configText: string | undefined;
    try {
      configText = await readFile(configPath, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new FerryError("UNAVAILABLE", "repository", `cannot read ${configPath}: ${reason(error)}`);
      }
    }
    return {
      name: model,
      configText,
      configSource: join(this.location, model, "config.pbtxt"),
      versions: versions.sort((a, b) => a - b),
    };
  }

  async materialize(model: string, version: string): Promise<LocalVersionDir> {
    const path = join(this.modelDir(model), version);
    try {
      return { path, files: (await readdir(path)).sort() };
    } catch (error) {
      throw new FerryError(
        "NOT_FOUND",
        "repository",
        `model '${model}' version ${version}: ${reason(error)}`,
      );
    }
  }

  async readModelFile(model: string, relativePath: string): Promise<Uint8Array | undefined> {
    const dir = this.modelDir(model);
    const path = resolve(dir, relativePath);
    if (relative(dir, path).startsWith("..") || !path.startsWith(dir + sep)) {
      throw new FerryError("INVALID_ARGUMENT", "repository", `'${relativePath}' is outside model '${model}'`);
    }
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new FerryError("UNAVAILABLE", "repository", `cannot read ${path}: ${reason(error)}`);
    }
  }

  private modelDir(model: string): string {
    if (!isSafeModelName(model))
      throw new FerryError("INVALID_ARGUMENT", "repository", `invalid model name '${model}'`);
    return join(this.root, model);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
