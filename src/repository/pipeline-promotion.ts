import { dependenciesOf } from "../config/dependencies.ts";
import { readConfigText } from "../config/read-config.ts";
import { FerryError } from "../core/errors.ts";
import type { PipelinePin } from "./manifest.ts";
import type { PromotionStore } from "./promotion-store.ts";
import type { ModelListing, ModelSource } from "./source.ts";

/**
 * What a pipeline entry's promotion pins besides its own files: for every
 * model its config says it runs on (ensemble steps, `ferry.calls`), one
 * version — the one the config names, else `chosen` (`--with`), else the
 * dependency's own promoted version (the heaviest), else its newest — with
 * the sha256 of each of that version's files. Nested pipelines (a
 * dependency that runs on other models) are promoted on their own.
 */
export async function pipelinePins(
  store: PromotionStore & Pick<ModelSource, "describe">,
  model: string,
  chosen: Record<string, string>,
): Promise<PipelinePin[]> {
  const listing = await store.describe(model);
  const dependencies =
    listing.configText === undefined
      ? []
      : dependenciesOf(readConfigText(listing.configText, listing.configSource));
  const named = new Map<string, string | undefined>();
  for (const dependency of dependencies) {
    const earlier = named.get(dependency.model);
    if (earlier !== undefined && dependency.version !== undefined && earlier !== dependency.version) {
      throw invalid(
        `'${model}' names two versions of '${dependency.model}' (${earlier} and ${dependency.version})`,
      );
    }
    named.set(dependency.model, earlier ?? dependency.version);
  }
  for (const extra of Object.keys(chosen)) {
    if (!named.has(extra)) throw invalid(`--with ${extra}: '${model}' does not run on '${extra}'`);
  }
  const pins: PipelinePin[] = [];
  for (const [dependency, fixed] of named) {
    const version = fixed ?? chosen[dependency] ?? servingVersion(await store.describe(dependency));
    if (version === undefined)
      throw invalid(`'${dependency}', which '${model}' runs on, has no version to pin`);
    if (fixed !== undefined && chosen[dependency] !== undefined && chosen[dependency] !== fixed)
      throw invalid(
        `--with ${dependency}=${chosen[dependency]}: the config of '${model}' names version ${fixed}`,
      );
    pins.push({ model: dependency, version, files: await store.digestFiles(dependency, version) });
  }
  return pins;
}

function servingVersion(listing: ModelListing): string | undefined {
  const promoted = listing.manifest?.serving.reduce((best, entry) =>
    entry.weight > best.weight ? entry : best,
  );
  return (
    promoted?.version ?? (listing.versions.at(-1) === undefined ? undefined : String(listing.versions.at(-1)))
  );
}

function invalid(message: string): FerryError {
  return new FerryError("INVALID_ARGUMENT", "repository", `pipeline promotion: ${message}`);
}
