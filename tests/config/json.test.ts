import { describe, expect, it } from "bun:test";
import { configFromJson, configToJson } from "../../src/config/json.ts";
import { readConfigText } from "../../src/config/read-config.ts";

describe("configToJson", () => {
  const json = configToJson(
    readConfigText(
      `name: "m" max_batch_size: 4 input [{ name: "a" data_type: TYPE_STRING dims: [-1, 3] }]
       output [{ name: "b" data_type: TYPE_FP32 dims: [1] }]
       instance_group [{ kind: KIND_CPU count: 2 }] parameters { key: "k" value { string_value: "v" } }
       dynamic_batching { max_queue_delay_microseconds: 100 }`,
      "c",
    ),
  );

  it("uses snake_case names, enum names and plain numbers for 64-bit integers", () => {
    expect(json.max_batch_size).toBe(4);
    expect(json.input).toEqual([
      {
        name: "a",
        data_type: "TYPE_STRING",
        format: "FORMAT_NONE",
        dims: [-1, 3],
        is_shape_tensor: false,
        allow_ragged_batch: false,
        optional: false,
        is_non_linear_format_io: false,
      },
    ]);
    expect((json.dynamic_batching as Record<string, unknown>).max_queue_delay_microseconds).toBe(100);
    expect(json.parameters).toEqual({ k: { string_value: "v" } });
  });

  it("emits scalars, lists and maps at their defaults and omits unset messages", () => {
    expect(json.runtime).toBe("");
    expect(json.batch_input).toEqual([]);
    expect(json.metric_tags).toEqual({});
    expect(json).not.toHaveProperty("model_transaction_policy");
    expect(json).not.toHaveProperty("sequence_batching");
  });

  it("round-trips through configFromJson", () => {
    const back = configFromJson(json, "override");
    expect(back.input[0]?.dims).toEqual([-1n, 3n]);
    expect(back.parameters.k?.stringValue).toBe("v");
  });
});

it("configFromJson names an unknown field", () => {
  expect(() => configFromJson({ max_batch: 1 }, "load parameter 'config'")).toThrow(
    /config: load parameter 'config': .*max_batch/,
  );
});
