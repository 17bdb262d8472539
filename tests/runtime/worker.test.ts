import { expect, it } from "bun:test";
import { startWorker } from "../../src/runtime/worker.ts";

it("starts a module worker whose uncaught error reaches its error listeners, not this thread", async () => {
  const code = `self.onmessage = (event) => { if (event.data === "throw") throw new Error("boom"); self.postMessage(event.data * 2); };`;
  const worker = startWorker(`data:text/javascript,${encodeURIComponent(code)}`, { background: true });
  try {
    const doubled = new Promise((resolve) =>
      worker.addEventListener("message", (event) => resolve(event.data)),
    );
    worker.postMessage(21);
    expect(await doubled).toBe(42);
    const failed = new Promise<string>((resolve) =>
      worker.addEventListener("error", (event) => resolve(event.message)),
    );
    worker.postMessage("throw");
    expect(await failed).toContain("boom");
  } finally {
    worker.terminate();
  }
});
