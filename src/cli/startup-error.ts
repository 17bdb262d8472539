/** A start-up failure the operator can fix, reported as one line (no stack trace). */
export class StartupError extends Error {}

/**
 * A listener that could not open, in the operator's terms: which endpoint,
 * which address and port, and the flag that chooses them.
 */
export function listenError(
  error: unknown,
  endpoint: string,
  flag: string,
  address: string,
  port: number,
): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${address}:${port}`;
  if (code === "EADDRINUSE")
    return new StartupError(`${endpoint} port ${where} is already in use (choose another with ${flag})`);
  if (code === "EACCES")
    return new StartupError(
      `${endpoint} port ${where} is not permitted for this user (choose another with ${flag})`,
    );
  if (code === "EADDRNOTAVAIL")
    return new StartupError(`${endpoint} address ${where} is not an address of this host (${flag})`);
  return error instanceof Error ? error : new Error(String(error));
}

/** Opens a listener, turning the usual failures into a StartupError naming the flag. */
export async function listen<T>(
  endpoint: string,
  flag: string,
  address: string,
  port: number,
  open: () => T | Promise<T>,
): Promise<T> {
  try {
    return await open();
  } catch (error) {
    throw listenError(error, endpoint, flag, address, port);
  }
}
