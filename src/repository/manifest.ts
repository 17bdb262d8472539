import { FerryError } from "../core/errors.ts";
import type { Runtime } from "../health/runtime.ts";

/** Where a model's promotion manifest lives, beside config.pbtxt. */
export const MANIFEST_FILE = "promotion.json";
export const MANIFEST_SCHEMA = "ferry.promotion/v1";

export interface FileDigest {
  sha256: string;
  size: number;
}

/** What a promoted version must show before it takes traffic. */
export interface Validation {
  /** Latency bound of warm-up and the synthetic check, replacing readiness_max_latency_ms. */
  max_latency_ms?: number;
  /** "gpu": refuse the version unless its instances really run on a GPU; "cpu": unless they all run on the CPU. */
  device?: "cpu" | "gpu";
  /** GPU names (as nvidia-smi reports them) it was validated on: the GPUs it runs on must be among them. */
  gpu?: string[];
}

/** The runtime `ferry promote` recorded: a serving host that differs says so (the `runtime` check). */
export type { Runtime };

/** A model a pipeline entry runs on, pinned in the entry's manifest: its exact version and files. */
export interface PipelinePin {
  model: string;
  version: string;
  files: Record<string, FileDigest>;
}

export interface ServingEntry {
  /** Version directory name. */
  version: string;
  /** Share of unversioned requests, 0–100; the serving entries' weights add up to 100. */
  weight: number;
  /** Every file the version is made of, relative to the model directory (config.pbtxt included). */
  files: Record<string, FileDigest>;
  validation?: Validation;
  runtime?: Runtime;
  /**
   * A pipeline entry (an ensemble, a TypeScript model with ferry.calls):
   * the version and files of every model it runs on. This version of the
   * entry runs on exactly these, and switches together with them.
   */
  pipeline?: PipelinePin[];
}

/** One state of the manifest: what served, and who decided it when. */
export interface ManifestState {
  revision: number;
  serving: ServingEntry[];
  promoted_by: string;
  promoted_at: string;
  note?: string;
}

/**
 * A model's promotion manifest: the version(s) that must serve, pinned by
 * the sha256 of every file, with canary weights, validation, and the
 * history of earlier states (newest last) that rollback returns to.
 */
export interface PromotionManifest extends ManifestState {
  schema: typeof MANIFEST_SCHEMA;
  model: string;
  history: ManifestState[];
}

/** The manifest as stored: indented JSON, one trailing newline. */
export function formatManifest(manifest: PromotionManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Parses and strictly validates a manifest; errors name the field path. */
export function parseManifest(text: string, source: string, model: string): PromotionManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(source, "", `not valid JSON: ${(error as Error).message}`);
  }
  const root = object(json, source, "");
  allowOnly(
    root,
    ["schema", "model", "revision", "serving", "promoted_by", "promoted_at", "note", "history"],
    source,
    "",
  );
  if (root.schema !== MANIFEST_SCHEMA) throw invalid(source, "schema", `must be "${MANIFEST_SCHEMA}"`);
  if (root.model !== model) throw invalid(source, "model", `must be "${model}", the model directory`);
  const history = array(root.history ?? [], source, "history").map((entry, index) => {
    const state = object(entry, source, `history[${index}]`);
    allowOnly(
      state,
      ["revision", "serving", "promoted_by", "promoted_at", "note"],
      source,
      `history[${index}]`,
    );
    return parseState(state, source, `history[${index}].`);
  });
  return { schema: MANIFEST_SCHEMA, model, ...parseState(root, source, ""), history };
}

function parseState(state: Record<string, unknown>, source: string, at: string): ManifestState {
  const revision = state.revision;
  if (!Number.isSafeInteger(revision) || (revision as number) < 1)
    throw invalid(source, `${at}revision`, "must be a positive integer");
  const serving = array(state.serving, source, `${at}serving`).map((entry, index) =>
    parseServing(entry, source, `${at}serving[${index}]`),
  );
  if (serving.length === 0) throw invalid(source, `${at}serving`, "must name at least one version");
  const versions = serving.map((entry) => entry.version);
  if (new Set(versions).size !== versions.length)
    throw invalid(source, `${at}serving`, "names a version twice");
  checkSharedFiles(serving, source, `${at}serving`);
  const total = serving.reduce((sum, entry) => sum + entry.weight, 0);
  if (total !== 100) throw invalid(source, `${at}serving`, `weights add up to ${total}, not 100`);
  const parsed: ManifestState = {
    revision: revision as number,
    serving,
    promoted_by: string(state.promoted_by, source, `${at}promoted_by`),
    promoted_at: timestamp(state.promoted_at, source, `${at}promoted_at`),
  };
  if (state.note !== undefined) parsed.note = string(state.note, source, `${at}note`);
  return parsed;
}

function parseServing(value: unknown, source: string, at: string): ServingEntry {
  const entry = object(value, source, at);
  allowOnly(entry, ["version", "weight", "files", "validation", "runtime", "pipeline"], source, at);
  const version = entry.version;
  if (typeof version !== "string" || !/^[1-9][0-9]*$/.test(version))
    throw invalid(source, `${at}.version`, 'must be a version directory name like "3"');
  const weight = entry.weight;
  if (!Number.isInteger(weight) || (weight as number) < 0 || (weight as number) > 100)
    throw invalid(source, `${at}.weight`, "must be an integer from 0 to 100");
  const files = parseFiles(entry.files, source, `${at}.files`);
  if (!Object.keys(files).some((path) => path.startsWith(`${version}/`)))
    throw invalid(source, `${at}.files`, `lists no file of version ${version}`);
  const foreign = Object.keys(files).find((path) => isVersionFile(path) && !path.startsWith(`${version}/`));
  if (foreign)
    throw invalid(source, `${at}.files['${foreign}']`, `belongs to another version than ${version}`);
  const parsed: ServingEntry = { version, weight: weight as number, files };
  if (entry.validation !== undefined)
    parsed.validation = parseValidation(entry.validation, source, `${at}.validation`);
  if (entry.runtime !== undefined) parsed.runtime = parseRuntime(entry.runtime, source, `${at}.runtime`);
  if (entry.pipeline !== undefined) parsed.pipeline = parsePipeline(entry.pipeline, source, `${at}.pipeline`);
  return parsed;
}

function parseFiles(value: unknown, source: string, at: string): Record<string, FileDigest> {
  const files: Record<string, FileDigest> = {};
  for (const [path, digest] of Object.entries(object(value, source, at))) {
    const where = `${at}['${path}']`;
    if (
      path === "" ||
      path.startsWith("/") ||
      path.split("/").some((part) => part === ".." || part === "." || part === "") ||
      path.includes("\\") ||
      path === MANIFEST_FILE
    )
      throw invalid(source, where, "must be a path inside the model directory");
    const file = object(digest, source, where);
    allowOnly(file, ["sha256", "size"], source, where);
    if (typeof file.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(file.sha256))
      throw invalid(source, `${where}.sha256`, "must be 64 lowercase hex characters");
    if (!Number.isSafeInteger(file.size) || (file.size as number) < 0)
      throw invalid(source, `${where}.size`, "must be a non-negative integer");
    files[path] = { sha256: file.sha256, size: file.size as number };
  }
  return files;
}

function parsePipeline(value: unknown, source: string, at: string): PipelinePin[] {
  const pins = array(value, source, at).map((item, index) => {
    const where = `${at}[${index}]`;
    const pin = object(item, source, where);
    allowOnly(pin, ["model", "version", "files"], source, where);
    const model = string(pin.model, source, `${where}.model`);
    const version = pin.version;
    if (typeof version !== "string" || !/^[1-9][0-9]*$/.test(version))
      throw invalid(source, `${where}.version`, 'must be a version directory name like "3"');
    const files = parseFiles(pin.files, source, `${where}.files`);
    if (!Object.keys(files).some((path) => path.startsWith(`${version}/`)))
      throw invalid(source, `${where}.files`, `lists no file of version ${version}`);
    return { model, version, files };
  });
  const models = pins.map((pin) => pin.model);
  if (new Set(models).size !== models.length) throw invalid(source, at, "pins a model twice");
  return pins;
}

function parseValidation(value: unknown, source: string, at: string): Validation {
  const validation = object(value, source, at);
  allowOnly(validation, ["max_latency_ms", "device", "gpu"], source, at);
  const parsed: Validation = {};
  if (validation.max_latency_ms !== undefined) {
    if (typeof validation.max_latency_ms !== "number" || !(validation.max_latency_ms > 0)) {
      throw invalid(source, `${at}.max_latency_ms`, "must be a positive number");
    }
    parsed.max_latency_ms = validation.max_latency_ms;
  }
  if (validation.device !== undefined) {
    if (validation.device !== "cpu" && validation.device !== "gpu")
      throw invalid(source, `${at}.device`, 'must be "cpu" or "gpu"');
    parsed.device = validation.device;
  }
  if (validation.gpu !== undefined) {
    const names = array(validation.gpu, source, `${at}.gpu`).map((name, index) =>
      string(name, source, `${at}.gpu[${index}]`),
    );
    if (names.length === 0) throw invalid(source, `${at}.gpu`, "must name at least one GPU");
    if (parsed.device === "cpu") throw invalid(source, `${at}.gpu`, 'cannot be set with device "cpu"');
    parsed.gpu = names;
  }
  return parsed;
}

function parseRuntime(value: unknown, source: string, at: string): Runtime {
  const runtime = object(value, source, at);
  const keys = ["ferry", "onnxruntime_node", "bun", "execution_provider"];
  allowOnly(runtime, keys, source, at);
  for (const key of keys) string(runtime[key], source, `${at}.${key}`);
  if (runtime.execution_provider !== "cpu" && runtime.execution_provider !== "cuda")
    throw invalid(source, `${at}.execution_provider`, 'must be "cpu" or "cuda"');
  return runtime as unknown as Runtime;
}

/**
 * config.pbtxt and the other files outside version directories belong to
 * the whole model, so every serving version must pin them identically.
 */
function checkSharedFiles(serving: ServingEntry[], source: string, at: string): void {
  const shared = new Map<string, string>();
  for (const entry of serving) {
    for (const [path, digest] of Object.entries(entry.files)) {
      if (isVersionFile(path)) continue;
      const pinned = `${digest.sha256}/${digest.size}`;
      const earlier = shared.get(path);
      if (earlier !== undefined && earlier !== pinned) {
        throw invalid(source, at, `versions pin different contents for the model-level file '${path}'`);
      }
      shared.set(path, pinned);
    }
  }
}

/** True for paths inside a version directory ("3/model.onnx"). */
export function isVersionFile(path: string): boolean {
  return /^[1-9][0-9]*\//.test(path);
}

function object(value: unknown, source: string, at: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalid(source, at, "must be a JSON object");
  return value as Record<string, unknown>;
}

function array(value: unknown, source: string, at: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(source, at, "must be a JSON array");
  return value;
}

function string(value: unknown, source: string, at: string): string {
  if (typeof value !== "string" || value.length === 0)
    throw invalid(source, at, "must be a non-empty string");
  return value;
}

function timestamp(value: unknown, source: string, at: string): string {
  const text = string(value, source, at);
  if (Number.isNaN(Date.parse(text))) throw invalid(source, at, "must be an ISO 8601 timestamp");
  return text;
}

function allowOnly(value: Record<string, unknown>, keys: string[], source: string, at: string): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key))
      throw invalid(source, at ? `${at}.${key}` : key, `unknown field (allowed: ${keys.join(", ")})`);
  }
}

function invalid(source: string, at: string, message: string): FerryError {
  return new FerryError("INVALID_ARGUMENT", "repository", `${source}: ${at ? `${at}: ` : ""}${message}`);
}
