/**
 * A module worker for `url`: `{ type: "module" }` is what Deno requires
 * (Bun assumes it). An uncaught error inside the worker reaches its "error"
 * listeners on both runtimes, but Deno then rethrows it in this thread and
 * ends the server unless the event's default action is prevented, as here.
 * `background` lets the process exit while the worker idles where the
 * runtime can (Bun; Deno workers have no unref).
 */
export function startWorker(url: string, options: { background?: boolean } = {}): Worker {
  const worker = new Worker(url, { type: "module" });
  worker.addEventListener("error", (event) => event.preventDefault());
  if (options.background) (worker as Worker & { unref?: () => void }).unref?.();
  return worker;
}
