import { describe, expect, it } from "bun:test";
import {
  defaultIntraOpThreads,
  sessionOptionsFor,
} from "../../../src/backends/onnxruntime/session-options.ts";
import { readConfigText } from "../../../src/config/read-config.ts";

const withInstances = (groups: string) => readConfigText(`name: "m"\ninstance_group [ ${groups} ]`, "m");

describe("onnxruntime session options", () => {
  it("shares the host's cores among the model's CPU instances, never fewer than two threads", () => {
    const two = withInstances("{ kind: KIND_CPU count: 2 }");
    expect(defaultIntraOpThreads(two, 16)).toBe(8);
    expect(defaultIntraOpThreads(two, 2)).toBe(2);
    expect(defaultIntraOpThreads(withInstances("{ kind: KIND_CPU count: 1 }"), 16)).toBe(16);
    expect(defaultIntraOpThreads(withInstances("{ kind: KIND_CPU count: 6 }"), 8)).toBe(2);
    // A one-core host gets one thread; GPU instances do not count.
    expect(defaultIntraOpThreads(two, 1)).toBe(1);
    expect(
      defaultIntraOpThreads(withInstances("{ kind: KIND_GPU count: 4 }, { kind: KIND_CPU count: 1 }"), 8),
    ).toBe(8);
  });

  it("keeps an explicit intra_op_thread_count and turns spinning off unless asked", () => {
    const config = readConfigText(
      `name: "m"
parameters { key: "intra_op_thread_count" value { string_value: "1" } }
parameters { key: "session.intra_op.allow_spinning" value { string_value: "1" } }`,
      "m",
    );
    const options = sessionOptionsFor(config, "cpu", 3, 16);
    expect(options.intraOpNumThreads).toBe(1);
    expect(options.extra).toEqual({
      session: { intra_op: { allow_spinning: "1" }, inter_op: { allow_spinning: "0" } },
    });
    expect(
      sessionOptionsFor(withInstances("{ kind: KIND_CPU count: 4 }"), "cpu", 3, 16).intraOpNumThreads,
    ).toBe(4);
  });

  it("refuses a thread count that is not a non-negative integer, naming the parameter", () => {
    const config = readConfigText(
      `name: "m"\nparameters { key: "intra_op_thread_count" value { string_value: "two" } }`,
      "m",
    );
    expect(() => sessionOptionsFor(config, "cpu", 3, 4)).toThrow(
      "parameters['intra_op_thread_count'] must be a non-negative integer, got 'two'",
    );
  });
});
