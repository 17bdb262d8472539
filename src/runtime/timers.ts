/** Resolves after `ms` milliseconds, keeping the process alive until then (Bun.sleep's contract, on any runtime). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
