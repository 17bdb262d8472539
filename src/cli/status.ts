import type { PromotionManifest, ServingEntry } from "../repository/manifest.ts";
import { FlagError, type FlagSpec } from "./flags.ts";
import {
  type CommandOutput,
  type CommandSpec,
  processOutput,
  REPOSITORY_FLAGS,
  runCommand,
  withStore,
} from "./repository-command.ts";

const STATUS_FLAGS: readonly FlagSpec[] = [
  {
    name: "server",
    kind: "list",
    help: "a ferry (or tritonserver) HTTP URL to compare with the manifest (repeatable)",
  },
  {
    name: "header",
    kind: "list",
    help: "<name>=<value> header for the servers, e.g. for --http-restricted-api (repeatable)",
  },
  { name: "timeout-ms", kind: "integer", help: "wait this long for each server (default 5000)" },
  ...REPOSITORY_FLAGS,
];

const STATUS: CommandSpec = {
  usage: "Usage: ferry status <model> --repository=<dir|s3://bucket/path> [--server=<url>]... [flags]",
  positionals: ["model"],
  flags: STATUS_FLAGS,
};

interface IndexRow {
  name: string;
  version?: string;
  state?: string;
  reason?: string;
}

/**
 * `ferry status <model>`: the manifest's current revision, and for each
 * --server whether it serves exactly that (exit 0) or not yet / failed
 * (exit 1, with each version's state and reason). A model with no
 * manifest exits 1 too.
 */
export function runStatus(argv: readonly string[], output: CommandOutput = processOutput): Promise<number> {
  return runCommand(STATUS, argv, output, async ({ positionals, values }) => {
    const [model = ""] = positionals;
    const headers = headerFlags((values.get("header") as string[] | undefined) ?? []);
    const timeoutMs = (values.get("timeout-ms") as number | undefined) ?? 5000;
    const { manifest, location } = await withStore(values, async (store) => ({
      manifest: (await store.readManifest(model)).manifest,
      location: store.location,
    }));
    output.out(describeManifest(model, location, manifest));
    let inSync = true;
    for (const server of (values.get("server") as string[] | undefined) ?? []) {
      const report = await serverReport(server, model, manifest, headers, timeoutMs);
      inSync &&= report.inSync;
      output.out(report.text);
    }
    // No manifest: nothing is pinned, so nothing can be confirmed as served.
    return manifest && inSync ? 0 : 1;
  });
}

export function describeServing(serving: ServingEntry[]): string {
  return serving
    .map((entry) => {
      const checks = Object.entries(entry.validation ?? {}).map(([key, value]) => `${key} ${value}`);
      const pipeline = (entry.pipeline ?? []).map((pin) => `${pin.model} ${pin.version}`);
      return `version ${entry.version} (${entry.weight}%${checks.length ? `; validation: ${checks.join(", ")}` : ""}${pipeline.length ? `; pipeline: ${pipeline.join(", ")}` : ""})`;
    })
    .join(", ");
}

function describeManifest(model: string, location: string, manifest: PromotionManifest | undefined): string {
  if (!manifest)
    return `model ${model} in ${location}: no promotion manifest; the config's version_policy decides\n`;
  const lines = [
    `model ${model} in ${location}: revision ${manifest.revision}, promoted by ${manifest.promoted_by} at ${manifest.promoted_at}${manifest.note ? ` (${manifest.note})` : ""}`,
    `  serving: ${describeServing(manifest.serving)}`,
  ];
  const previous = manifest.history.at(-1);
  if (previous)
    lines.push(
      `  rollback would serve: ${describeServing(previous.serving)} (revision ${previous.revision})`,
    );
  return `${lines.join("\n")}\n`;
}

async function serverReport(
  server: string,
  model: string,
  manifest: PromotionManifest | undefined,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ inSync: boolean; text: string }> {
  const base = server.replace(/\/$/, "");
  let rows: IndexRow[];
  let all: IndexRow[];
  try {
    const response = await fetch(`${base}/v2/repository/index`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: "{}",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json().catch(() => undefined)) as
      | IndexRow[]
      | { error?: string }
      | undefined;
    if (!response.ok || !Array.isArray(body)) {
      const why = body && !Array.isArray(body) ? body.error : undefined;
      return {
        inSync: false,
        text: `server ${base}: repository index answered ${response.status}${why ? `: ${why}` : ""}\n`,
      };
    }
    all = body;
    rows = body.filter((row) => row.name === model);
  } catch (error) {
    return {
      inSync: false,
      text: `server ${base}: unreachable: ${error instanceof Error ? error.message : String(error)}\n`,
    };
  }
  const state = (version: string) => rows.find((row) => row.version === version);
  const wanted = manifest?.serving.map((entry) => entry.version) ?? [];
  // A pipeline entry is in sync only when every model of each serving version's set is loaded too.
  const pins = (manifest?.serving ?? []).flatMap((entry) =>
    (entry.pipeline ?? []).map((pin) => ({
      of: entry.version,
      pin,
      row: all.find((row) => row.name === pin.model && row.version === pin.version),
    })),
  );
  const inSync =
    (wanted.length > 0
      ? wanted.every((version) => state(version)?.state === "READY")
      : rows.some((row) => row.state === "READY")) && pins.every(({ row }) => row?.state === "READY");
  const lines = [
    `server ${base}: ${inSync ? "in sync" : manifest ? "not serving the manifest's versions" : "not serving the model"}`,
  ];
  for (const row of rows) {
    const mark = wanted.includes(row.version ?? "") ? "*" : " ";
    lines.push(
      `  ${mark} version ${row.version || "-"}: ${row.state ?? "not loaded"}${row.reason ? ` (${row.reason})` : ""}`,
    );
  }
  for (const version of wanted.filter((version) => !state(version)))
    lines.push(`  * version ${version}: not known to the server`);
  for (const { of, pin, row } of pins) {
    lines.push(
      `  * version ${of}'s pipeline: ${pin.model} version ${pin.version}: ${row?.state ?? "not known to the server"}${row?.reason ? ` (${row.reason})` : ""}`,
    );
  }
  return { inSync, text: `${lines.join("\n")}\n` };
}

function headerFlags(specs: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const spec of specs) {
    const equals = spec.indexOf("=");
    if (equals <= 0) throw new FlagError(`--header expects <name>=<value>, got '${spec}'`);
    headers[spec.slice(0, equals)] = spec.slice(equals + 1);
  }
  return headers;
}
