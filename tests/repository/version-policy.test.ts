import { describe, expect, it } from "bun:test";
import { readConfigText } from "../../src/config/read-config.ts";
import { selectVersions } from "../../src/repository/version-policy.ts";

const policy = (text: string) => readConfigText(text, "c").versionPolicy;

describe("selectVersions", () => {
  it("serves the highest version by default", () => {
    expect(selectVersions(undefined, [3, 10, 2])).toEqual({ load: [10], missing: [] });
  });
  it("serves the N highest with latest", () => {
    expect(selectVersions(policy("version_policy { latest { num_versions: 2 } }"), [1, 2, 3])).toEqual({
      load: [2, 3],
      missing: [],
    });
  });
  it("serves every version with all", () => {
    expect(selectVersions(policy("version_policy { all {} }"), [2, 1])).toEqual({
      load: [1, 2],
      missing: [],
    });
  });
  it("serves the listed versions with specific and reports the missing ones", () => {
    expect(selectVersions(policy("version_policy { specific { versions: [1, 4] } }"), [1, 2, 3])).toEqual({
      load: [1],
      missing: [4],
    });
  });
});
