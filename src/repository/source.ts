/** What a repository knows about one model before anything is loaded. */
export interface ModelListing {
  name: string;
  /** config.pbtxt text, or undefined when the model has none (auto-complete). */
  configText: string | undefined;
  /** Where the config lives, for error messages ("models/simple/config.pbtxt"). */
  configSource: string;
  /** Numeric version directories present, ascending. */
  versions: number[];
}

/** A version's files on local disk, ready for a backend to open. */
export interface LocalVersionDir {
  path: string;
  files: string[];
}

/**
 * A model repository: local directory or object store, in Triton's layout
 * (`<model>/config.pbtxt`, `<model>/<version>/<files>`).
 */
export interface ModelSource {
  /** Human-readable location, e.g. the directory path. */
  readonly location: string;
  list(): Promise<string[]>;
  describe(model: string): Promise<ModelListing>;
  materialize(model: string, version: string): Promise<LocalVersionDir>;
  /** A file beside config.pbtxt (labels, warm-up data), or undefined if absent. */
  readModelFile(model: string, relativePath: string): Promise<Uint8Array | undefined>;
}

/** Version directory names: positive integers without leading zeros; anything else is ignored. */
export function isVersionDirName(name: string): boolean {
  return /^[1-9][0-9]*$/.test(name);
}

/** Model names that cannot escape the repository or hide as dotfiles. */
export function isSafeModelName(name: string): boolean {
  return name.length > 0 && !name.startsWith(".") && !/[/\\\0]/.test(name);
}
