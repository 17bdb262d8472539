import { afterEach, expect, it } from "bun:test";
import { type HttpListener, serveHttp } from "../../src/runtime/serve.ts";

const open: HttpListener[] = [];
afterEach(async () => {
  for (const listener of open.splice(0)) await listener.stop(true);
});

function listen(fetch: (request: Request) => Response | Promise<Response>, port = 0): HttpListener {
  const listener = serveHttp({ hostname: "127.0.0.1", port, fetch });
  open.push(listener);
  return listener;
}

it("listens on the port the OS picks for port 0 and hands requests to the fetch handler", async () => {
  const listener = listen((request) => new Response(`you asked for ${new URL(request.url).pathname}`));
  expect(listener.port).toBeGreaterThan(0);
  expect(await (await fetch(`http://127.0.0.1:${listener.port}/here`)).text()).toBe("you asked for /here");
});

it("throws EADDRINUSE at once for a port already taken", () => {
  const taken = listen(() => new Response("first"));
  let error: unknown;
  try {
    listen(() => new Response("second"), taken.port);
  } catch (caught) {
    error = caught;
  }
  expect((error as NodeJS.ErrnoException | undefined)?.code).toBe("EADDRINUSE");
});

it("finishes an answer in flight before a graceful stop resolves", async () => {
  let release = () => {};
  const listener = listen(
    () => new Promise<Response>((resolve) => (release = () => resolve(new Response("late but whole")))),
  );
  const answer = fetch(`http://127.0.0.1:${listener.port}/`).then((response) => response.text());
  await Bun.sleep(50);
  const stopped = listener.stop(false);
  release();
  await stopped;
  expect(await answer).toBe("late but whole");
  expect(await fetch(`http://127.0.0.1:${listener.port}/`).catch(() => "refused")).toBe("refused");
});
