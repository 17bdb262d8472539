import { currentRuntime } from "../health/runtime.ts";
import type { Validation } from "../repository/manifest.ts";
import { promote, rollback } from "../repository/promotion.ts";
import { FlagError, type FlagSpec } from "./flags.ts";
import {
  type CommandOutput,
  type CommandSpec,
  processOutput,
  REPOSITORY_FLAGS,
  runCommand,
  withStore,
} from "./repository-command.ts";
import { describeServing } from "./status.ts";

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
  {
    name: "gpu",
    kind: "list",
    help: "validation: a GPU model it was validated on, as nvidia-smi names it (repeatable); serving GPUs must be among them",
  },
  {
    name: "with",
    kind: "list",
    help: "a pipeline entry: <model>=<version> of a model it runs on (repeatable; default: that model's promoted version, else its newest)",
  },
  {
    name: "execution-provider",
    kind: "string",
    choices: ["cpu", "cuda"],
    help: "the execution provider it was validated with, recorded with the runtime (default cuda with --gpu or --device gpu, else cpu)",
  },
  ...REPOSITORY_FLAGS,
];

const PROMOTE: CommandSpec = {
  usage: "Usage: ferry promote <model> <version> --repository=<dir|s3://bucket/path> [flags]",
  positionals: ["model", "version"],
  flags: PROMOTE_FLAGS,
};

/** `ferry promote <model> <version>`: pins the version's files and makes it serve. */
export function runPromote(argv: readonly string[], output: CommandOutput = processOutput): Promise<number> {
  return runCommand(PROMOTE, argv, output, async ({ positionals, values }) => {
    const [model = "", version = ""] = positionals;
    const validation: Validation = {};
    if (values.has("max-latency-ms")) validation.max_latency_ms = values.get("max-latency-ms") as number;
    if (values.has("device")) validation.device = values.get("device") as "cpu" | "gpu";
    const gpus = (values.get("gpu") as string[] | undefined) ?? [];
    if (gpus.length > 0) validation.gpu = gpus;
    const onGpu = gpus.length > 0 || validation.device === "gpu";
    const provider =
      (values.get("execution-provider") as "cpu" | "cuda" | undefined) ?? (onGpu ? "cuda" : "cpu");
    return withStore(values, async (store) => {
      const manifest = await promote(store, model, version, {
        weight: values.get("weight") as number | undefined,
        by: values.get("by") as string | undefined,
        note: values.get("note") as string | undefined,
        validation,
        runtime: currentRuntime(provider),
        with: parseWith((values.get("with") as string[] | undefined) ?? []),
      });
      output.out(
        `promoted ${model} version ${version} in ${store.location}: revision ${manifest.revision} serves ${describeServing(manifest.serving)}\n`,
      );
      return 0;
    });
  });
}

function parseWith(entries: string[]): Record<string, string> {
  const chosen: Record<string, string> = {};
  for (const entry of entries) {
    const match = /^([^=]+)=([1-9][0-9]*)$/.exec(entry);
    if (!match) throw new FlagError(`--with expects <model>=<version>, got '${entry}'`);
    chosen[match[1] as string] = match[2] as string;
  }
  return chosen;
}

const ROLLBACK_FLAGS: readonly FlagSpec[] = [
  {
    name: "to-revision",
    kind: "integer",
    help: "the revision to serve again (default: the one before the current)",
  },
  { name: "by", kind: "string", help: "who rolls back (default user@host)" },
  ...REPOSITORY_FLAGS,
];

const ROLLBACK: CommandSpec = {
  usage: "Usage: ferry rollback <model> --repository=<dir|s3://bucket/path> [flags]",
  positionals: ["model"],
  flags: ROLLBACK_FLAGS,
};

/** `ferry rollback <model>`: serves the previous (or a chosen) revision's versions again. */
export function runRollback(argv: readonly string[], output: CommandOutput = processOutput): Promise<number> {
  return runCommand(ROLLBACK, argv, output, async ({ positionals, values }) => {
    const [model = ""] = positionals;
    return withStore(values, async (store) => {
      const manifest = await rollback(store, model, {
        toRevision: values.get("to-revision") as number | undefined,
        by: values.get("by") as string | undefined,
      });
      output.out(
        `rolled back ${model} in ${store.location}: revision ${manifest.revision} (${manifest.note}) serves ${describeServing(manifest.serving)}\n`,
      );
      return 0;
    });
  });
}
