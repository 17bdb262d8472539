import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { isAbsolute, join, normalize, relative, sep } from "node:path";
import { FerryError } from "../core/errors.ts";
import { LocalSource } from "./local-source.ts";
import { isSafeModelName } from "./source.ts";

/**
 * The repository load API's `file:<version>/<path>` overrides, written into
 * a fresh directory of their own that then serves as the model's
 * repository. A path may never leave the model's own directory.
 */
export async function writeFileOverrides(
  baseDir: string,
  model: string,
  files: ReadonlyMap<string, Uint8Array>,
): Promise<LocalSource> {
  if (!isSafeModelName(model))
    throw new FerryError("INVALID_ARGUMENT", "repository", `invalid model name '${model}'`);
  const planned = [...files.keys()].map((path) => ({ path, target: checkedPath(path) }));
  await mkdir(baseDir, { recursive: true });
  const root = await mkdtemp(join(baseDir, `${model}-`));
  const modelDir = join(root, model);
  for (const { path, target } of planned) {
    const destination = join(modelDir, target);
    await mkdir(join(destination, ".."), { recursive: true });
    await writeFile(destination, files.get(path) as Uint8Array);
  }
  return new LocalSource(root);
}

function checkedPath(path: string): string {
  const normalized = normalize(path);
  const escapes =
    normalized.startsWith(`..${sep}`) || normalized === ".." || relative(".", normalized).startsWith("..");
  if (path.length === 0 || isAbsolute(path) || path.includes("\0") || path.includes("\\") || escapes) {
    throw new FerryError(
      "INVALID_ARGUMENT",
      "repository",
      `file override 'file:${path}' would leave the model's directory`,
    );
  }
  return normalized;
}
