/**
 * The server log: one line per event on stderr, with a level letter as
 * tritonserver writes it (I, W, E; V for --log-verbose messages).
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Logged only when --log-verbose is at least `level`. */
  verbose(level: number, message: string): void;
}

export function createLogger(
  verboseLevel = 0,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const emit = (letter: string, message: string) =>
    write(`${letter} ${new Date().toISOString()} ${message}\n`);
  return {
    info: (message) => emit("I", message),
    warn: (message) => emit("W", message),
    error: (message) => emit("E", message),
    verbose: (level, message) => {
      if (verboseLevel >= level) emit("V", message);
    },
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, verbose() {} };
