/** A version's place in the repository's lifecycle, as tritonserver names the states. */
export type VersionState = "LOADING" | "READY" | "UNAVAILABLE" | "UNLOADING";

export interface VersionStatus {
  version: string;
  state: VersionState;
  reason: string;
}

/** The reason of a version unloaded on purpose (it does not count against readiness). */
export const UNLOADED = "unloaded";
