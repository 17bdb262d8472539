import { FerryError, invalidArgument } from "../../core/errors.ts";
import { startWorker } from "../../runtime/worker.ts";

/**
 * JSON bodies at least this large are parsed in a worker: JSON.parse blocks
 * the thread that runs it (an 8 MB body of floats, ~55 ms here), and on the
 * event loop every request and health probe waits behind it. Smaller ones
 * stay inline, where the hop would cost more than it saves.
 */
export const OFF_LOOP_JSON_BYTES = 1024 * 1024;

const WORKER = new URL("./json-parse-worker.ts", import.meta.url).href;

type Reply = { id: number; value?: unknown; error?: string };

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

function started(): Worker {
  if (worker) return worker;
  const created = startWorker(WORKER, { background: true });
  created.onmessage = (event: MessageEvent<Reply>) => {
    const { id, value, error } = event.data;
    const waiting = pending.get(id);
    pending.delete(id);
    if (error !== undefined)
      waiting?.reject(invalidArgument("protocol", `malformed JSON in request body: ${error}`));
    else waiting?.resolve(value);
  };
  created.onerror = (event) => {
    // A crashed parser fails only the bodies it held; the next one starts a fresh worker.
    worker = undefined;
    const failure = new FerryError("INTERNAL", "protocol", `JSON parser worker failed: ${event.message}`);
    for (const waiting of pending.values()) waiting.reject(failure);
    pending.clear();
  };
  worker = created;
  return created;
}

/** Parses a JSON infer body in the worker; numeric input data comes back as typed arrays. */
export function parseJsonOffLoop(bytes: Uint8Array): Promise<unknown> {
  const id = nextId++;
  // A copy the worker can own (the body may be a view into a larger buffer).
  const buffer = bytes.slice().buffer;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    started().postMessage({ id, buffer }, [buffer]);
  });
}
