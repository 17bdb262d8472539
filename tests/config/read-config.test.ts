import { expect, it } from "bun:test";
import { readConfigText } from "../../src/config/read-config.ts";

it("names the file, line and column of a syntax error", () => {
  expect(() => readConfigText('name: "x"\n  max_batch: 3', "models/x/config.pbtxt")).toThrow(
    "config: models/x/config.pbtxt:2:3: unknown field 'max_batch' in ModelConfig",
  );
});
