import { useEffect, useState } from "preact/hooks";

export interface Polled<T> {
  value: T | undefined;
  error: string | undefined;
}

/**
 * Calls `read` now and every `intervalMs` while the component is shown;
 * a new `key` (another server or restricted key) starts over. A failed read
 * keeps the last value and shows why.
 */
export function usePolling<T>(read: () => Promise<T>, intervalMs: number, key: unknown): Polled<T> {
  const [polled, setPolled] = useState<Polled<T>>({ value: undefined, error: undefined });
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try {
        const value = await read();
        if (!stopped) setPolled({ value, error: undefined });
      } catch (error) {
        if (!stopped) setPolled((last) => ({ value: last.value, error: String(error) }));
      }
    };
    void tick();
    const timer = setInterval(tick, intervalMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [key]);
  return polled;
}
