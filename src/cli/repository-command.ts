import { homedir } from "node:os";
import { join } from "node:path";
import { FerryError } from "../core/errors.ts";
import { ArtifactCache } from "../repository/artifact-cache.ts";
import { LocalSource } from "../repository/local-source.ts";
import type { PromotionStore } from "../repository/promotion-store.ts";
import { parseS3Url } from "../repository/s3/s3-location.ts";
import { S3Source } from "../repository/s3/s3-source.ts";
import type { ModelSource } from "../repository/source.ts";
import { FlagError, type FlagSpec, type FlagValues, formatHelp, parseFlags } from "./flags.ts";
import { S3_FLAGS, s3Settings } from "./s3-flags.ts";

/** Where a command writes: stdout for results, stderr for errors. */
export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: CommandOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export interface ParsedCommand {
  positionals: string[];
  values: FlagValues;
}

/** `<positionals...> --flags`: positionals come first, as in `ferry promote <model> <version> --repository=...`. */
function parseCommand(
  argv: readonly string[],
  positionalNames: string[],
  specs: readonly FlagSpec[],
): ParsedCommand | "help" {
  const firstFlag = argv.findIndex((arg) => arg.startsWith("--"));
  const positionals = firstFlag < 0 ? [...argv] : argv.slice(0, firstFlag);
  const values = parseFlags(firstFlag < 0 ? [] : argv.slice(firstFlag), specs);
  if (values.get("help") === true) return "help";
  if (positionals.length !== positionalNames.length) {
    throw new FlagError(
      `expected ${positionalNames.map((name) => `<${name}>`).join(" ")}, got ${positionals.length ? positionals.map((arg) => `'${arg}'`).join(" ") : "nothing"}`,
    );
  }
  if (!values.has("repository"))
    throw new FlagError("--repository is required (a directory or s3://bucket/path)");
  return { positionals, values };
}

export const REPOSITORY_FLAGS: readonly FlagSpec[] = [
  {
    name: "repository",
    kind: "string",
    help: "the model repository: a directory or s3://[host:port/]bucket/path",
  },
  ...S3_FLAGS,
  { name: "help", kind: "boolean", help: "print this help" },
];

/** The promotion store behind --repository: a local directory or an S3 bucket. */
/** A repository ferry's subcommands read (listings, configs) and promote in. */
export type RepositoryStore = PromotionStore & Pick<ModelSource, "describe"> & { close?(): void };

function openStore(values: FlagValues): RepositoryStore {
  const repository = values.get("repository") as string;
  if (!repository.startsWith("s3://")) return new LocalSource(repository);
  try {
    parseS3Url(repository);
  } catch (error) {
    if (error instanceof FerryError) throw new FlagError(error.detail);
    throw error;
  }
  // Promotion only hashes objects; the cache stays untouched.
  const cache = new ArtifactCache(join(homedir(), ".cache", "ferry", "artifacts"), () => {});
  return new S3Source(repository, s3Settings(values), cache);
}

/** Opens the --repository store for `use` and closes it afterwards. */
export async function withStore<T>(
  values: FlagValues,
  use: (store: RepositoryStore) => Promise<T>,
): Promise<T> {
  const store = openStore(values);
  try {
    return await use(store);
  } finally {
    store.close?.();
  }
}

export interface CommandSpec {
  usage: string;
  positionals: string[];
  flags: readonly FlagSpec[];
}

/**
 * Parses a subcommand's arguments (answering --help) and runs its body,
 * with the exit codes every subcommand shares: 0 done, 1 failed, 2 bad
 * command line, 3 promotion conflict.
 */
export async function runCommand(
  spec: CommandSpec,
  argv: readonly string[],
  output: CommandOutput,
  body: (parsed: ParsedCommand) => Promise<number>,
): Promise<number> {
  try {
    const parsed = parseCommand(argv, spec.positionals, spec.flags);
    if (parsed === "help") {
      output.out(formatHelp(spec.usage, spec.flags));
      return 0;
    }
    return await body(parsed);
  } catch (error) {
    if (error instanceof FlagError) {
      output.err(`ferry: ${error.message}\n\n${formatHelp(spec.usage, spec.flags)}`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    output.err(`ferry: ${message}\n`);
    return message.includes("promotion conflict") ? 3 : 1;
  }
}
