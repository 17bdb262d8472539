import { afterAll, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalSource } from "../../src/repository/local-source.ts";
import { promote } from "../../src/repository/promotion.ts";
import { createManager } from "../support/manager.ts";
import { TestRepository } from "../support/model-repo.ts";
import { identityModel } from "../support/onnx-builder.ts";

const repo = new TestRepository().addModel("m", {
  config: "max_batch_size: 2",
  versions: { 1: identityModel("FP32", ["b", 2]), 2: identityModel("FP32", ["n", 2]) },
});
const manager = createManager(repo.root);
afterAll(async () => {
  await manager.shutdown();
  repo.remove();
});

it("a stray file in one pinned version refuses only that version, whichever is newest", async () => {
  const store = new LocalSource(repo.root);
  await promote(store, "m", "1");
  await promote(store, "m", "2", { weight: 10 });
  writeFileSync(join(repo.root, "m", "2", "stray.bin"), "not pinned");
  await manager.loadModel("m", {}, { force: false });
  const states = manager.versionStatus("m").map((status) => [status.version, status.state, status.reason]);
  expect(states).toEqual([
    ["1", "READY", ""],
    [
      "2",
      "UNAVAILABLE",
      "repository: model 'm' version 2 has files the promotion manifest does not pin: stray.bin",
    ],
  ]);
});
