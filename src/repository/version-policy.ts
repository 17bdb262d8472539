import type { ModelVersionPolicy } from "../gen/model_config_pb.ts";

export interface VersionSelection {
  /** Versions to load, ascending. */
  load: number[];
  /** Versions the policy names that have no directory. */
  missing: number[];
}

/** Which versions serve: latest N (default 1), all, or a specific list. */
export function selectVersions(
  policy: ModelVersionPolicy | undefined,
  available: readonly number[],
): VersionSelection {
  const sorted = [...available].sort((a, b) => a - b);
  const choice = policy?.policyChoice;
  if (choice?.case === "all") return { load: sorted, missing: [] };
  if (choice?.case === "specific") {
    const wanted = [...new Set(choice.value.versions.map(Number))].sort((a, b) => a - b);
    return {
      load: wanted.filter((v) => sorted.includes(v)),
      missing: wanted.filter((v) => !sorted.includes(v)),
    };
  }
  const count = choice?.case === "latest" ? Math.max(1, choice.value.numVersions) : 1;
  return { load: sorted.slice(-count), missing: [] };
}
