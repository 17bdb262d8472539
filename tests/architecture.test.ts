import { expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

/**
 * ../shared/ARCHITECTURE.md: folder imports run one way, top to bottom —
 * cli → protocol → repository → serving → scheduler/health → backends →
 * config → metrics → core/gen — with no cycles between folders.
 */
const RANK: Record<string, number> = {
  cli: 0,
  protocol: 1,
  repository: 2,
  serving: 3,
  scheduler: 4,
  health: 4,
  backends: 5,
  config: 6,
  metrics: 7,
  // Browser code: it may use the domain types and generated messages, nothing of the server.
  console: 7.5,
  core: 8,
  gen: 8,
  // The Bun/Deno seam (serve, workers, files, processes): anyone may call it; it imports nothing of ferry.
  runtime: 8,
};
const SRC = join(import.meta.dir, "..", "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [join(dir, entry.name)]
        : [],
  );
}

const folderOf = (file: string) => relative(SRC, file).split("/")[0] as string;

it("keeps the browser console apart: the server bundles src/console by path and never imports it", () => {
  const importers = sourceFiles(SRC)
    .filter((file) => folderOf(file) !== "console")
    .filter((file) =>
      [...readFileSync(file, "utf8").matchAll(/from "(\.[^"]+)"/g)].some(
        ([, spec]) => folderOf(normalize(join(dirname(file), spec as string))) === "console",
      ),
    );
  expect(importers.map((file) => relative(SRC, file))).toEqual([]);
});

it("imports between src/ folders only run downwards", () => {
  const upward: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    if (!(from in RANK)) continue;
    for (const [, spec] of readFileSync(file, "utf8").matchAll(/from "(\.[^"]+)"/g)) {
      const to = folderOf(normalize(join(dirname(file), spec as string)));
      if (to === from || !(to in RANK)) continue;
      if ((RANK[to] as number) <= (RANK[from] as number))
        upward.push(`${relative(SRC, file)} imports ${spec}`);
    }
  }
  expect(upward).toEqual([]);
});
