import { afterAll, expect, it } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
const out = mkdtempSync(join(tmpdir(), "ferry-gen-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it("src/gen is exactly what buf generate makes from proto/", async () => {
  const bin = join(root, "node_modules/.bin");
  const child = Bun.spawn([join(bin, "buf"), "generate", "--output", out], {
    cwd: root,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    stderr: "pipe",
  });
  expect(await child.exited, await new Response(child.stderr).text()).toBe(0);
  const generated = join(out, "src/gen");
  const committed = join(root, "src/gen");
  expect(readdirSync(committed).sort()).toEqual(readdirSync(generated).sort());
  for (const file of readdirSync(generated)) {
    expect(
      readFileSync(join(committed, file), "utf8"),
      `src/gen/${file} is stale: run npm run generate`,
    ).toBe(readFileSync(join(generated, file), "utf8"));
  }
});
