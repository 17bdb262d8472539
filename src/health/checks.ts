import { FerryError } from "../core/errors.ts";

/**
 * One readiness check of one model version, as the verbose ready probe
 * shows it. WARN is advisory (it never makes a version unready): a check
 * that could only run on invented inputs and failed on them.
 */
export interface CheckResult {
  name: string;
  status: "PASS" | "WARN" | "FAIL" | "SKIP";
  detail: string;
  durationMs: number;
}

/** The latest readiness verdict of a version: its checks and when they ran. */
export interface VersionHealth {
  ready: boolean;
  checks: CheckResult[];
  checkedAt: string;
}

export function verdict(checks: CheckResult[]): VersionHealth {
  return {
    ready: checks.every((check) => check.status !== "FAIL"),
    checks,
    checkedAt: new Date().toISOString(),
  };
}

/** Runs a check body, timing it; a thrown error is a FAIL with its message. */
export async function timedCheck(
  name: string,
  body: () => Promise<{ status: CheckResult["status"]; detail: string }>,
): Promise<CheckResult> {
  const started = performance.now();
  try {
    const { status, detail } = await body();
    return { name, status, detail, durationMs: elapsed(started) };
  } catch (error) {
    return { name, status: "FAIL", detail: checkFailure(error), durationMs: elapsed(started) };
  }
}

export function failures(checks: CheckResult[]): string {
  return checks
    .filter((check) => check.status === "FAIL")
    .map((check) => `${check.name}: ${check.detail}`)
    .join("; ");
}

/** A check's own failures read without the "health:" prefix that the whole verdict gets. */
function checkFailure(error: unknown): string {
  if (error instanceof FerryError && error.layer === "health") return error.detail;
  return error instanceof Error ? error.message : String(error);
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

/** Why a failure on invented inputs is only a warning, and what to do about it. */
export const INVENTED_INPUTS_HINT =
  "on invented inputs (zeros, no model_warmup in the config), so it does not fail the version; add model_warmup with representative inputs to make this check binding";

/** A version that failed its readiness checks at load; the checks stay visible in the verbose probe. */
export class HealthCheckError extends FerryError {
  constructor(readonly checks: CheckResult[]) {
    super("UNAVAILABLE", "health", `readiness checks failed: ${failures(checks)}`);
  }
}
