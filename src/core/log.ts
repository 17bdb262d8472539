/**
 * The server log: one line per event, with a level as tritonserver writes
 * it (I, W, E; V for --log-verbose messages), or one JSON object per line.
 */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Logged only when --log-verbose is at least `level`. */
  verbose(level: number, message: string, fields?: LogFields): void;
}

/** Structured context of a line (model, version, request id, layer …): JSON keys, ignored in text. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/**
 * --log-format: `default` ("I <ISO time> message", ferry's text form),
 * `ISO8601` (the time first, as tritonserver's ISO8601 format puts it) or
 * `json` (one object per line: time, level, message and the fields).
 */
export type LogFormat = "default" | "ISO8601" | "json";

export interface LogOptions {
  /** --log-verbose level; 0 = no verbose lines. */
  verbose?: number;
  /** --log-info / --log-warning / --log-error: each level can be turned off. */
  info?: boolean;
  warning?: boolean;
  error?: boolean;
  format?: LogFormat;
  /** Where lines go (stderr by default; --log-file appends to a file). */
  write?: (line: string) => void;
}

const LEVELS = { I: "info", W: "warning", E: "error", V: "verbose" } as const;
type Letter = keyof typeof LEVELS;

export function createLogger(options: LogOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const format = options.format ?? "default";
  const emit = (letter: Letter, message: string, fields?: LogFields) => {
    const time = new Date().toISOString();
    if (format === "json") write(`${JSON.stringify(jsonLine(time, letter, message, fields))}\n`);
    else if (format === "ISO8601") write(`${time} ${letter} ${message}\n`);
    else write(`${letter} ${time} ${message}\n`);
  };
  const verbose = options.verbose ?? 0;
  return {
    info: (message, fields) => {
      if (options.info !== false) emit("I", message, fields);
    },
    warn: (message, fields) => {
      if (options.warning !== false) emit("W", message, fields);
    },
    error: (message, fields) => {
      if (options.error !== false) emit("E", message, fields);
    },
    verbose: (level, message, fields) => {
      if (verbose >= level) emit("V", message, fields);
    },
  };
}

/**
 * A JSON line. A model and version the caller did not give as fields are
 * read from the wording ferry's messages use for their subject ("model 'm'
 * version 2"), so log queries can filter on them.
 */
function jsonLine(time: string, letter: Letter, message: string, fields: LogFields = {}): LogFields {
  const line: LogFields = { time, level: LEVELS[letter], message };
  const subject = /model '([^']+)'(?: version (\d+))?/.exec(message);
  if (subject && fields.model === undefined) {
    line.model = subject[1];
    if (subject[2] !== undefined && fields.version === undefined) line.version = subject[2];
  }
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) line[key] = value;
  return line;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, verbose() {} };
