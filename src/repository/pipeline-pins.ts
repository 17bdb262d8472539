import { FerryError } from "../core/errors.ts";
import type { ModelVersion } from "../serving/model-version.ts";
import { MANIFEST_SCHEMA, type PipelinePin, type PromotionManifest } from "./manifest.ts";
import type { ModelEntry } from "./model-entry.ts";
import type { ModelPlan } from "./model-plan.ts";
import type { PinnedFiles } from "./source.ts";

/** What the pins need of the model table. */
export interface PinHost {
  /** The table's entry for a model, created if new. */
  entry(name: string): ModelEntry;
  existing(name: string): ModelEntry | undefined;
  /** A plan for a model under the given manifest (its listing read now). */
  plan(name: string, manifest: PromotionManifest): Promise<ModelPlan>;
  /** Loads one version beside whatever serves; a failure is recorded on its slot and returned. */
  loadCandidate(entry: ModelEntry, version: number, plan: ModelPlan): Promise<FerryError | undefined>;
  unloadVersions(entry: ModelEntry, versions: number[]): Promise<void>;
  onLoadFailed(model: string, version: string, reason: string): void;
}

/**
 * A promoted pipeline's versions of the models it runs on. Loading a
 * pipeline version first loads, beside whatever serves, the exact version
 * and files of each model its manifest entry pins; the loaded pipeline
 * version then holds them. A held version stays loaded (its own model's
 * plan may move on) until the last pipeline version holding it has
 * drained, so a request that entered a pipeline finishes on the set it
 * started with.
 */
export class PipelinePins {
  private readonly held = new Map<ModelVersion, PipelinePin[]>();

  constructor(private readonly host: PinHost) {}

  /**
   * Loads every pinned version of a pipeline version; the first that fails
   * fails the pipeline version with its reason (and nothing switches).
   */
  async load(entry: ModelEntry, version: number, pins: PipelinePin[]): Promise<FerryError | undefined> {
    for (const pin of pins) {
      const failure = await this.loadPinned(pin);
      if (!failure) continue;
      const reason = `pipeline: model '${pin.model}' version ${pin.version} failed: ${failure.message}`;
      const slot = entry.versions.get(version);
      if (slot?.serving) slot.reason = `reload failed: ${reason}`;
      else entry.versions.set(version, { state: "UNAVAILABLE", reason });
      this.host.onLoadFailed(entry.name, String(version), reason);
      return new FerryError(failure.code, "repository", reason);
    }
    return undefined;
  }

  hold(holder: ModelVersion, pins: PipelinePin[]): void {
    this.held.set(holder, pins);
  }

  isHeld(model: string, version: number): boolean {
    for (const pins of this.held.values()) {
      if (pins.some((pin) => pin.model === model && Number(pin.version) === version)) return true;
    }
    return false;
  }

  /** A pipeline version left: the versions only it held unload, unless their own model still serves them. */
  release(holder: ModelVersion): void {
    const pins = this.held.get(holder) ?? [];
    this.held.delete(holder);
    for (const pin of pins) {
      const version = Number(pin.version);
      const entry = this.host.existing(pin.model);
      if (!entry || this.isHeld(pin.model, version) || entry.expected.includes(version)) continue;
      void entry.serialize(() => this.host.unloadVersions(entry, [version]));
    }
  }

  /** One pinned version, loaded from exactly its pinned files unless it already is. */
  private loadPinned(pin: PipelinePin): Promise<FerryError | undefined> {
    const entry = this.host.entry(pin.model);
    return entry.serialize(async () => {
      const version = Number(pin.version);
      const slot = entry.versions.get(version);
      if (slot?.serving && samePins(slot.pinned, pin.files)) return undefined;
      let plan: ModelPlan;
      try {
        plan = await this.host.plan(pin.model, pinManifest(pin));
      } catch (error) {
        return FerryError.from(error, "repository");
      }
      if (!plan.versions.includes(version))
        return new FerryError(
          "NOT_FOUND",
          "repository",
          `model '${pin.model}' has no version ${pin.version}`,
        );
      return this.host.loadCandidate(entry, version, plan);
    });
  }
}

/** A one-entry manifest that loads exactly the pinned version and files of a pipeline's dependency. */
export function pinManifest(pin: PipelinePin): PromotionManifest {
  return {
    schema: MANIFEST_SCHEMA,
    model: pin.model,
    revision: 1,
    serving: [{ version: pin.version, weight: 100, files: pin.files }],
    promoted_by: "pipeline pin",
    promoted_at: new Date(0).toISOString(),
    history: [],
  };
}

/** Whether a loaded copy was loaded from exactly these files. */
export function samePins(loaded: PinnedFiles | undefined, wanted: PinnedFiles): boolean {
  if (!loaded) return false;
  const keys = Object.keys(wanted);
  return (
    keys.length === Object.keys(loaded).length &&
    keys.every(
      (path) => loaded[path]?.sha256 === wanted[path]?.sha256 && loaded[path]?.size === wanted[path]?.size,
    )
  );
}
