import { describe, expect, it } from "bun:test";
import { parseTextFormat } from "../../../src/config/text-format/parse.ts";
import { TextFormatError } from "../../../src/config/text-format/tokenizer.ts";
import { DataType, ModelConfigSchema, ModelInstanceGroup_Kind } from "../../../src/gen/model_config_pb.ts";

const parse = (text: string) => parseTextFormat(ModelConfigSchema, text);

describe("parseTextFormat", () => {
  it("reads scalars of every kind", () => {
    const config = parse(`name: "m" max_batch_size: 8 default_model_filename: 'x.onnx'
      dynamic_batching { max_queue_delay_microseconds: 18446744073709551615 preserve_ordering: true }`);
    expect(config.name).toBe("m");
    expect(config.maxBatchSize).toBe(8);
    expect(config.defaultModelFilename).toBe("x.onnx");
    const batching = config.schedulingChoice;
    expect(batching.case).toBe("dynamicBatching");
    if (batching.case === "dynamicBatching") {
      expect(batching.value.maxQueueDelayMicroseconds).toBe(18446744073709551615n);
      expect(batching.value.preserveOrdering).toBe(true);
    }
  });

  it("reads negative, hex, octal and float numbers", () => {
    const config = parse(`input { dims: -1 dims: 0x10 dims: 010 }
      model_metrics { metric_control { histogram_options { buckets: [ 1.5, -2e3, .25, 3f, inf, -inf ] } } }`);
    expect(config.input[0]?.dims).toEqual([-1n, 16n, 8n]);
    const options = config.modelMetrics?.metricControl[0]?.metricOptions;
    expect(options?.case).toBe("histogramOptions");
    if (options?.case === "histogramOptions") {
      expect(options.value.buckets).toEqual([
        1.5,
        -2000,
        0.25,
        3,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
      ]);
    }
  });

  it("reads enums by name and by number", () => {
    const config = parse(
      "input { data_type: TYPE_FP32 } input { data_type: 8 } instance_group { kind: KIND_GPU }",
    );
    expect(config.input.map((input) => input.dataType)).toEqual([DataType.TYPE_FP32, DataType.TYPE_INT32]);
    expect(config.instanceGroup[0]?.kind).toBe(ModelInstanceGroup_Kind.GPU);
  });

  it("reads nested messages with braces, angle brackets and an optional colon", () => {
    const config = parse(
      `version_policy: { specific < versions: [1, 3] > } optimization { graph { level: 1 } }`,
    );
    const policy = config.versionPolicy?.policyChoice;
    expect(policy?.case).toBe("specific");
    if (policy?.case === "specific") expect(policy.value.versions).toEqual([1n, 3n]);
    expect(config.optimization?.graph?.level).toBe(1);
  });

  it("reads repeated fields as a list and as repeated keys, and both mixed", () => {
    const config = parse(`input [ { name: "a" }, { name: "b" } ] input { name: "c" } input [ ]
      instance_group { gpus: [0, 1] gpus: 2 }`);
    expect(config.input.map((input) => input.name)).toEqual(["a", "b", "c"]);
    expect(config.instanceGroup[0]?.gpus).toEqual([0, 1, 2]);
  });

  it("reads maps with scalar and message values, as entries and as a list", () => {
    const config = parse(`parameters { key: "threads" value: { string_value: "4" } }
      parameters [ { key: "mode" value { string_value: "fast" } } ]
      metric_tags { key: "team" value: "vision" }
      dynamic_batching { priority_queue_policy { key: 2 value: { max_queue_size: 7 } } }`);
    expect(config.parameters.threads?.stringValue).toBe("4");
    expect(config.parameters.mode?.stringValue).toBe("fast");
    expect(config.metricTags).toEqual({ team: "vision" });
    const batching = config.schedulingChoice;
    if (batching.case !== "dynamicBatching") throw new Error("expected dynamic batching");
    expect(batching.value.priorityQueuePolicy["2"]?.maxQueueSize).toBe(7);
  });

  it("skips comments and accepts , and ; as separators", () => {
    const config = parse(`# leading comment
      name: "m"; # trailing comment
      max_batch_size: 2,
      # another`);
    expect(config.name).toBe("m");
    expect(config.maxBatchSize).toBe(2);
  });

  it("decodes string escapes and joins adjacent literals", () => {
    const config = parse(String.raw`name: "a\tb\n\"q\"\\ \x41\101\u00e9\U0001F600" 'c' "d"`);
    expect(config.name).toBe('a\tb\n"q"\\ AAé😀cd');
  });

  it("accepts bool spellings true/false/True/t/1/0", () => {
    const values = ["true", "True", "t", "1", "false", "False", "f", "0"].map(
      (text) => parse(`response_cache { enable: ${text} }`).responseCache?.enable,
    );
    expect(values).toEqual([true, true, true, true, false, false, false, false]);
  });

  it("sets one member of a oneof", () => {
    const config = parse("version_policy { all {} }");
    expect(config.versionPolicy?.policyChoice.case).toBe("all");
  });
});

describe("parseTextFormat errors", () => {
  const cases: [string, string, number, number, RegExp][] = [
    ["unknown field", 'name: "x"\nmax_batch: 3', 2, 1, /unknown field 'max_batch'/],
    ["missing colon before scalar", 'name "x"', 1, 6, /expected ':' after 'name'/],
    ["unterminated string", 'name: "abc', 1, 7, /unterminated string/],
    ["newline in string", 'name: "ab\ncd"', 1, 7, /unterminated string/],
    ["unknown enum value", "input { data_type: TYPE_FLOAT }", 1, 20, /unknown value 'TYPE_FLOAT'/],
    ["string for an integer", 'max_batch_size: "8"', 1, 17, /expected an integer/],
    ["float for an integer", "max_batch_size: 1.5", 1, 17, /expected an integer/],
    ["int32 overflow", "max_batch_size: 2147483648", 1, 17, /out of range for int32/],
    [
      "negative unsigned",
      "dynamic_batching { max_queue_delay_microseconds: -1 }",
      1,
      51,
      /out of range for uint64/,
    ],
    ["unclosed message", "dynamic_batching {", 1, 19, /expected '}' before end of file/],
    ["stray closing brace", "}", 1, 1, /expected a field name/],
    ["singular field twice", 'name: "a"\nname: "b"', 2, 1, /specified more than once/],
    [
      "two members of a oneof",
      "dynamic_batching {}\nsequence_batching {}",
      2,
      1,
      /oneof 'scheduling_choice'/,
    ],
    ["bad list separator", "input { dims: [1 2] }", 1, 18, /expected ',' or ']'/],
    ["unknown escape", String.raw`name: "\q"`, 1, 8, /unknown escape/],
    ["bad bool", "response_cache { enable: yes }", 1, 26, /expected true or false/],
    ["unexpected character", "name: @", 1, 7, /unexpected character '@'/],
    ["malformed number", "max_batch_size: 12abc", 1, 17, /malformed number/],
    ["map entry with unknown key", 'metric_tags { k: "a" }', 1, 15, /'key' or 'value'/],
    ["scalar where message expected", "dynamic_batching: 3", 1, 19, /expected '\{' or '<'/],
  ];
  for (const [title, text, line, column, message] of cases) {
    it(`reports ${title} at ${line}:${column}`, () => {
      let error: unknown;
      try {
        parse(text);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(TextFormatError);
      const failure = error as TextFormatError;
      expect(failure.reason).toMatch(message);
      expect([failure.line, failure.column]).toEqual([line, column]);
    });
  }
});
