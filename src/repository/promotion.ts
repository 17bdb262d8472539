import { hostname, userInfo } from "node:os";
import { FerryError } from "../core/errors.ts";
import {
  isVersionFile,
  MANIFEST_SCHEMA,
  type ManifestState,
  type PromotionManifest,
  type Runtime,
  type ServingEntry,
  type Validation,
} from "./manifest.ts";
import { pipelinePins } from "./pipeline-promotion.ts";
import type { PromotionStore } from "./promotion-store.ts";
import type { ModelSource, PinnedFiles } from "./source.ts";

/** Earlier states kept for rollback; older ones drop off. */
const HISTORY_LIMIT = 20;

export interface PromoteOptions {
  /** Share of unversioned requests, 1–100; below 100 the version joins as a canary. */
  weight?: number;
  by?: string;
  note?: string;
  validation?: Validation;
  /** The runtime the promoter validated with, recorded for serving hosts to compare. */
  runtime?: Runtime;
  /** A pipeline entry's dependency versions the promoter chose (`--with model=version`). */
  with?: Record<string, string>;
  now?: Date;
}

/**
 * Makes `version` serve: pins the sha256 of every file it is made of (and,
 * for a pipeline entry, the version and files of every model it runs on) and
 * writes the next manifest revision with a conditional write, so of two
 * promoters that read the same manifest one wins and the other gets a
 * conflict. With a weight below 100 the other serving versions keep the
 * rest of the traffic, in proportion to their current weights.
 */
export async function promote(
  store: PromotionStore & Pick<ModelSource, "describe">,
  model: string,
  version: string,
  options: PromoteOptions = {},
): Promise<PromotionManifest> {
  const weight = options.weight ?? 100;
  if (!Number.isInteger(weight) || weight < 1 || weight > 100) {
    throw invalid(`--weight must be an integer from 1 to 100, got ${weight}`);
  }
  if (!/^[1-9][0-9]*$/.test(version))
    throw invalid(`version must be a version directory name like 3, got '${version}'`);
  const { manifest: current, etag } = await store.readManifest(model);
  const files = await store.digestFiles(model, version);
  const entry: ServingEntry = { version, weight, files };
  if (options.validation && Object.keys(options.validation).length > 0) entry.validation = options.validation;
  if (options.runtime) entry.runtime = options.runtime;
  const pipeline = await pipelinePins(store, model, options.with ?? {});
  if (pipeline.length > 0) entry.pipeline = pipeline;
  const others = (current?.serving ?? []).filter((other) => other.version !== version);
  let serving: ServingEntry[];
  if (weight === 100) serving = [entry];
  else {
    const othersWeight = others.reduce((sum, other) => sum + other.weight, 0);
    if (othersWeight === 0) {
      throw invalid(
        `a canary of ${weight}% needs another version serving the rest, and ${model} has none; promote with weight 100 first`,
      );
    }
    const shares = splitRemainder(
      100 - weight,
      others.map((other) => other.weight),
    );
    serving = [
      ...others.map((other, index) => ({
        ...other,
        weight: shares[index] ?? 0,
        files: withSharedFiles(other.files, files),
      })),
      entry,
    ];
  }
  const next = nextManifest(model, current, serving, options, options.note);
  await store.writeManifest(model, next, etag);
  return next;
}

export interface RollbackOptions {
  /** The revision to return to; default the one before the current. */
  toRevision?: number;
  by?: string;
  now?: Date;
}

/**
 * Serves an earlier state again, as a new revision (the current state goes
 * into history, so a second rollback undoes the first), with the same
 * conditional write as promote.
 */
export async function rollback(
  store: PromotionStore,
  model: string,
  options: RollbackOptions = {},
): Promise<PromotionManifest> {
  const { manifest: current, etag } = await store.readManifest(model);
  if (!current)
    throw new FerryError(
      "NOT_FOUND",
      "repository",
      `model '${model}' has no promotion manifest in ${store.location}`,
    );
  const target =
    options.toRevision === undefined
      ? current.history.at(-1)
      : current.history.find((state) => state.revision === options.toRevision);
  if (!target) {
    const known = current.history.map((state) => state.revision).join(", ") || "none";
    throw new FerryError(
      "NOT_FOUND",
      "repository",
      options.toRevision === undefined
        ? `model '${model}' has no earlier revision to roll back to`
        : `model '${model}' has no revision ${options.toRevision} in its history (kept: ${known})`,
    );
  }
  const next = nextManifest(
    model,
    current,
    target.serving,
    options,
    `rollback to revision ${target.revision}`,
  );
  await store.writeManifest(model, next, etag);
  return next;
}

function nextManifest(
  model: string,
  current: PromotionManifest | undefined,
  serving: ServingEntry[],
  options: { by?: string; now?: Date },
  note: string | undefined,
): PromotionManifest {
  const next: PromotionManifest = {
    schema: MANIFEST_SCHEMA,
    model,
    revision: (current?.revision ?? 0) + 1,
    serving,
    promoted_by: options.by ?? defaultPromoter(),
    promoted_at: (options.now ?? new Date()).toISOString(),
    history: current ? [...current.history, stateOf(current)].slice(-HISTORY_LIMIT) : [],
  };
  if (note) next.note = note;
  return next;
}

function stateOf(manifest: PromotionManifest): ManifestState {
  const state: ManifestState = {
    revision: manifest.revision,
    serving: manifest.serving,
    promoted_by: manifest.promoted_by,
    promoted_at: manifest.promoted_at,
  };
  if (manifest.note) state.note = manifest.note;
  return state;
}

/** config.pbtxt and other model-level files are shared: every serving version pins the current ones. */
function withSharedFiles(own: PinnedFiles, fresh: PinnedFiles): PinnedFiles {
  const kept = Object.entries(own).filter(([path]) => isVersionFile(path));
  const shared = Object.entries(fresh).filter(([path]) => !isVersionFile(path));
  return Object.fromEntries([...kept, ...shared]);
}

/** Splits `total` in proportion to `weights` into integers that add up to it (largest remainder). */
export function splitRemainder(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((weight) => (total * weight) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = exact
    .map((value, index) => ({ index, rest: value - Math.floor(value) }))
    .sort((a, b) => b.rest - a.rest);
  for (const { index } of order) {
    if (left === 0) break;
    shares[index] = (shares[index] ?? 0) + 1;
    left -= 1;
  }
  return shares;
}

function defaultPromoter(): string {
  let user = process.env.USER ?? "unknown";
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep $USER.
  }
  return `${user}@${hostname()}`;
}

function invalid(message: string): FerryError {
  return new FerryError("INVALID_ARGUMENT", "repository", message);
}
