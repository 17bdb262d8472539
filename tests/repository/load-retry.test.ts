import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestRepository } from "../support/model-repo.ts";
import { startTestServer } from "../support/test-server.ts";
import { addTsModel, FP32_IO, mapModel } from "../support/ts-models.ts";

const marks = mkdtempSync(join(tmpdir(), "ferry-retry-"));
afterAll(() => rmSync(marks, { recursive: true, force: true }));

/** A model whose first instance load fails (it leaves a mark), and every later one succeeds. */
function flakyRepository(mark: string): TestRepository {
  return addTsModel(
    new TestRepository(),
    "flaky",
    `max_batch_size: 0 ${FP32_IO} instance_group [ { kind: KIND_CPU count: 1 } ]`,
    mapModel(
      "return { OUTPUT0: input };",
      `async initialize() {
    const mark = Bun.file(${JSON.stringify(mark)});
    if (!(await mark.exists())) {
      await Bun.write(mark, "failed once");
      throw new Error("first load fails");
    }
  }`,
    ),
  );
}

describe("--model-load-retry-count", () => {
  for (const [retries, ready] of [
    [0, false],
    [1, true],
  ] as const) {
    it(`${ready ? "loads" : "fails"} a model whose first load fails with ${retries} retr${retries === 1 ? "y" : "ies"}`, async () => {
      const repo = flakyRepository(join(marks, `mark-${retries}`));
      const warnings: string[] = [];
      const server = await startTestServer(
        repo.root,
        [`--model-load-retry-count=${retries}`],
        {},
        {
          info() {},
          warn: (message) => warnings.push(message),
          error() {},
          verbose() {},
        },
      );
      try {
        const index = (await (
          await fetch(`${server.url}/v2/repository/index`, { method: "POST" })
        ).json()) as {
          state: string;
          reason: string;
        }[];
        expect(index[0]?.state).toBe(ready ? "READY" : "UNAVAILABLE");
        if (!ready) expect(index[0]?.reason).toContain("first load fails");
        if (ready)
          expect(
            warnings.some((line) => /flaky.*load failed .*first load fails.*retry 1 of 1/.test(line)),
          ).toBe(true);
      } finally {
        await server.stop({ graceSecs: 0 });
        repo.remove();
      }
    }, 30_000);
  }
});
