import type { Validation } from "../repository/manifest.ts";
import { promote, rollback } from "../repository/promotion.ts";
import { type FlagSpec, formatHelp } from "./flags.ts";
import {
  type CommandOutput,
  openStore,
  parseCommand,
  processOutput,
  REPOSITORY_FLAGS,
  runCommand,
} from "./repository-command.ts";
import { describeServing } from "./status.ts";

const PROMOTE_USAGE = "Usage: ferry promote <model> <version> --repository=<dir|s3://bucket/path> [flags]";
const PROMOTE_FLAGS: readonly FlagSpec[] = [
  {
    name: "weight",
    kind: "integer",
    help: "share of unversioned requests, 1-100 (default 100; less = canary)",
  },
  { name: "by", kind: "string", help: "who promotes (default user@host)" },
  { name: "note", kind: "string", help: "why, kept in the manifest's history" },
  {
    name: "max-latency-ms",
    kind: "integer",
    help: "validation: warm-up and synthetic request latency bound",
  },
  {
    name: "device",
    kind: "string",
    choices: ["cpu", "gpu"],
    help: "validation: the device the version must run on",
  },
  ...REPOSITORY_FLAGS,
];

/** `ferry promote <model> <version>`: pins the version's files and makes it serve. */
export function runPromote(argv: readonly string[], output: CommandOutput = processOutput): Promise<number> {
  return runCommand(PROMOTE_USAGE, PROMOTE_FLAGS, output, async () => {
    const parsed = parseCommand(argv, ["model", "version"], PROMOTE_FLAGS);
    if (parsed === "help") {
      output.out(formatHelp(PROMOTE_USAGE, PROMOTE_FLAGS));
      return 0;
    }
    const { positionals, values } = parsed;
    const [model = "", version = ""] = positionals;
    const validation: Validation = {};
    if (values.has("max-latency-ms")) validation.max_latency_ms = values.get("max-latency-ms") as number;
    if (values.has("device")) validation.device = values.get("device") as "cpu" | "gpu";
    const store = openStore(values);
    try {
      const manifest = await promote(store, model, version, {
        weight: values.get("weight") as number | undefined,
        by: values.get("by") as string | undefined,
        note: values.get("note") as string | undefined,
        validation,
      });
      output.out(
        `promoted ${model} version ${version} in ${store.location}: revision ${manifest.revision} serves ${describeServing(manifest.serving)}\n`,
      );
      return 0;
    } finally {
      store.close?.();
    }
  });
}

const ROLLBACK_USAGE = "Usage: ferry rollback <model> --repository=<dir|s3://bucket/path> [flags]";
const ROLLBACK_FLAGS: readonly FlagSpec[] = [
  {
    name: "to-revision",
    kind: "integer",
    help: "the revision to serve again (default: the one before the current)",
  },
  { name: "by", kind: "string", help: "who rolls back (default user@host)" },
  ...REPOSITORY_FLAGS,
];

/** `ferry rollback <model>`: serves the previous (or a chosen) revision's versions again. */
export function runRollback(argv: readonly string[], output: CommandOutput = processOutput): Promise<number> {
  return runCommand(ROLLBACK_USAGE, ROLLBACK_FLAGS, output, async () => {
    const parsed = parseCommand(argv, ["model"], ROLLBACK_FLAGS);
    if (parsed === "help") {
      output.out(formatHelp(ROLLBACK_USAGE, ROLLBACK_FLAGS));
      return 0;
    }
    const { positionals, values } = parsed;
    const [model = ""] = positionals;
    const store = openStore(values);
    try {
      const manifest = await rollback(store, model, {
        toRevision: values.get("to-revision") as number | undefined,
        by: values.get("by") as string | undefined,
      });
      output.out(
        `rolled back ${model} in ${store.location}: revision ${manifest.revision} (${manifest.note}) serves ${describeServing(manifest.serving)}\n`,
      );
      return 0;
    } finally {
      store.close?.();
    }
  });
}
