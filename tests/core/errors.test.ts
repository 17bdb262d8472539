import { expect, it } from "bun:test";
import { FerryError } from "../../src/core/errors.ts";

it("cuts a long quoted name in an error to 64 characters and says how long it was", () => {
  const name = "m".repeat(100_000);
  const error = new FerryError(
    "NOT_FOUND",
    "repository",
    `Request for unknown model: '${name}' is not found`,
  );
  expect(error.message).toBe(
    `repository: Request for unknown model: '${"m".repeat(64)}…' (100000 characters) is not found`,
  );
});

it("keeps names up to 128 characters whole, and bounds any detail to 2 KB", () => {
  const name = "n".repeat(128);
  expect(new FerryError("NOT_FOUND", "backend", `no input '${name}'`).detail).toBe(`no input '${name}'`);
  const long = new FerryError("INVALID_ARGUMENT", "protocol", `version ${"9".repeat(10_000)} is bad`);
  expect(long.detail.length).toBeLessThan(2100);
  expect(long.detail).toEndWith("… (10015 characters in all)");
});
