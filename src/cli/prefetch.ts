import { homedir } from "node:os";
import { join } from "node:path";
import { readConfigText } from "../config/read-config.ts";
import { FerryError } from "../core/errors.ts";
import { ArtifactCache } from "../repository/artifact-cache.ts";
import { parseS3Url } from "../repository/s3/s3-location.ts";
import { S3Source } from "../repository/s3/s3-source.ts";
import type { PinnedFiles } from "../repository/source.ts";
import { selectVersions } from "../repository/version-policy.ts";
import { FlagError, type FlagSpec } from "./flags.ts";
import { type CommandOutput, processOutput, REPOSITORY_FLAGS, runCommand } from "./repository-command.ts";
import { s3Settings } from "./s3-flags.ts";

const PREFETCH_FLAGS: readonly FlagSpec[] = [
  {
    name: "model-cache-dir",
    kind: "string",
    help: "the cache the server will read (its --model-cache-dir; default ~/.cache/ferry)",
  },
  { name: "model", kind: "list", help: "only this model (repeatable; default every model)" },
  ...REPOSITORY_FLAGS,
];

const PREFETCH = {
  usage:
    "Usage: ferry prefetch --repository=s3://bucket/path --model-cache-dir=<dir> [--model=<name>]... [flags]",
  positionals: [],
  flags: PREFETCH_FLAGS,
};

/** One version to fetch: pinned by a manifest (model's own or a pipeline's), or chosen by version_policy. */
interface Wanted {
  model: string;
  version: string;
  pinned?: PinnedFiles;
  why: string;
}

/**
 * `ferry prefetch`: downloads into the artifact cache every file a server
 * started on the same repository and cache would load — each promotion
 * manifest's serving versions and the versions their pipelines pin, checked
 * against their sha256; a model without a manifest, the versions its
 * version_policy selects — so the server (an initContainer's neighbour)
 * starts from verified local files. Files already cached are not fetched
 * again. Exit 0 only when every file is present and verified; 1 with each
 * failure otherwise.
 */
export function runPrefetch(argv: readonly string[], output: CommandOutput = processOutput): Promise<number> {
  return runCommand(PREFETCH, argv, output, async ({ values }) => {
    const repository = values.get("repository") as string;
    if (!repository.startsWith("s3://")) {
      output.out(`${repository} is a local directory: nothing to prefetch\n`);
      return 0;
    }
    try {
      parseS3Url(repository);
    } catch (error) {
      if (error instanceof FerryError) throw new FlagError(error.detail);
      throw error;
    }
    const cacheDir =
      (values.get("model-cache-dir") as string | undefined) ?? join(homedir(), ".cache", "ferry");
    const cache = new ArtifactCache(join(cacheDir, "artifacts"), (message) => output.out(`${message}\n`));
    const source = new S3Source(repository, s3Settings(values), cache);
    try {
      const only = values.get("model") as string[] | undefined;
      const models = only ?? (await source.list());
      const wanted = (await Promise.all(models.map((model) => versionsOf(source, model)))).flat();
      const started = performance.now();
      const failures: string[] = [];
      let files = 0;
      // One version at a time: the cache already downloads a version's files in parallel.
      for (const { model, version, pinned, why } of wanted) {
        try {
          const dir = await source.materialize(model, version, pinned);
          files += dir.files.length;
          output.out(
            `${model} version ${version} (${why}): ${dir.files.length} file(s) present and verified\n`,
          );
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          failures.push(`${model} version ${version}: ${reason}`);
          output.err(`ferry: ${model} version ${version}: ${reason}\n`);
        }
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      output.out(
        `prefetch: ${wanted.length - failures.length} of ${wanted.length} version(s), ${files} file(s) in ${cacheDir} (${cache.downloads} downloaded, the rest already cached) in ${seconds}s\n`,
      );
      return failures.length === 0 ? 0 : 1;
    } finally {
      source.close();
    }
  });
}

async function versionsOf(source: S3Source, model: string): Promise<Wanted[]> {
  const listing = await source.describe(model);
  if (!listing.manifest) {
    const config = listing.configText ? readConfigText(listing.configText, listing.configSource) : undefined;
    return selectVersions(config?.versionPolicy, listing.versions).load.map((version) => ({
      model,
      version: String(version),
      why: "version_policy",
    }));
  }
  const revision = `manifest revision ${listing.manifest.revision}`;
  return listing.manifest.serving.flatMap((entry) => [
    { model, version: entry.version, pinned: entry.files, why: revision },
    ...(entry.pipeline ?? []).map((pin) => ({
      model: pin.model,
      version: pin.version,
      pinned: pin.files,
      why: `pinned by ${model} version ${entry.version}`,
    })),
  ]);
}
