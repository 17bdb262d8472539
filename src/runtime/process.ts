import { spawnSync } from "node:child_process";

export interface CommandResult {
  /** The exit status; -1 when the command could not run (not installed) or was killed at the timeout. */
  exitCode: number;
  stdout: string;
}

/** Runs a command to completion, stopping it after `timeoutMs`; never throws for a command that is absent. */
export function runCommand(argv: readonly string[], timeoutMs: number): CommandResult {
  const [command, ...args] = argv;
  if (command === undefined) return { exitCode: -1, stdout: "" };
  const result = spawnSync(command, args, { timeout: timeoutMs, encoding: "utf8" });
  return { exitCode: result.status ?? -1, stdout: result.stdout ?? "" };
}
