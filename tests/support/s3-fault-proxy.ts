import { BUCKET, relay } from "./s3rver.ts";

/**
 * What the proxy does to a matching request:
 * - stall: forwards `afterBytes` of the body, then nothing (the connection stays open);
 * - cut: forwards `afterBytes` of the body, then drops the connection;
 * - corrupt: forwards the whole body with one byte flipped;
 * - blackhole: accepts the request and never answers;
 * - refuse: nothing listens on the port (connections are refused; applies to every request).
 */
export type Fault = "none" | "stall" | "cut" | "corrupt" | "blackhole" | "refuse";

/**
 * An HTTP proxy on 127.0.0.1 in front of an S3 endpoint (s3rver) that
 * injects faults into the answers of requests whose path contains `match`,
 * switchable at any time. Requests that do not match pass untouched.
 */
export class S3FaultProxy {
  fault: Fault = "none";
  /** Only requests whose path contains this are faulted ("" = all). */
  match = "";
  /** Body bytes forwarded before a stall or cut. */
  afterBytes = 64;
  /** Paths of every request seen, faulted or not (with method: "GET /models/…"). */
  readonly seen: string[] = [];
  /** How many answers were faulted. */
  faulted = 0;
  private server: ReturnType<typeof Bun.serve> | undefined;
  private port = 0;
  /** Streams held open by stalls and blackholes, released by stop(). */
  private readonly held = new Set<() => void>();

  constructor(private readonly targetEndpoint: string) {
    this.listen();
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  url(prefix: string): string {
    return `s3://127.0.0.1:${this.port}/${BUCKET}/${prefix}`;
  }

  /** Switches the fault (for requests whose path contains `match`). */
  set(fault: Fault, match = ""): void {
    this.match = match;
    if (fault === "refuse") this.server?.stop(true);
    if (fault === "refuse") this.server = undefined;
    else if (!this.server) this.listen();
    this.fault = fault;
  }

  heal(): void {
    this.set("none");
  }

  /** GET requests whose path contains `fragment`. */
  gets(fragment: string): number {
    return this.seen.filter((line) => line.startsWith("GET ") && line.includes(fragment)).length;
  }

  stop(): void {
    for (const release of this.held) release();
    this.held.clear();
    this.server?.stop(true);
    this.server = undefined;
  }

  private listen(): void {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: this.port,
      // A stall must outlast the client's idle timeout, not Bun's.
      idleTimeout: 0,
      fetch: (request) => this.handle(request),
      // A cut is an errored body; the client sees the connection drop.
      error: () => new Response(null, { status: 500 }),
    });
    this.port = this.server.port ?? 0;
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname + url.search;
    this.seen.push(`${request.method} ${path}`);
    const fault = this.fault !== "none" && path.includes(this.match) ? this.fault : "none";
    if (fault === "blackhole") {
      this.faulted++;
      return new Promise<Response>((resolve) =>
        this.held.add(() => resolve(new Response(null, { status: 503 }))),
      );
    }
    const answer = await relay(request, `${this.targetEndpoint}${path}`);
    if (fault === "none" || !answer.body || answer.status >= 300) {
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    }
    this.faulted++;
    const bytes = new Uint8Array(await answer.arrayBuffer());
    return new Response(this.faultyBody(fault, bytes), { status: answer.status, headers: answer.headers });
  }

  private faultyBody(fault: Fault, bytes: Uint8Array): ReadableStream<Uint8Array> {
    const head = bytes.slice(0, Math.min(this.afterBytes, bytes.byteLength));
    let sent = false;
    return new ReadableStream<Uint8Array>({
      pull: async (out) => {
        if (fault === "corrupt") {
          const copy = bytes.slice();
          const at = Math.floor(copy.byteLength / 2);
          copy[at] = (copy[at] ?? 0) ^ 0xff;
          out.enqueue(copy);
          out.close();
          return;
        }
        if (!sent) {
          sent = true;
          out.enqueue(head);
          return;
        }
        if (fault === "cut") {
          // After the head went out, so the client sees the body break off.
          await Bun.sleep(100);
          out.error("s3-fault-proxy: connection cut");
          return;
        }
        // stall: never another byte until the proxy stops.
        await new Promise<void>((resolve) => this.held.add(resolve));
        out.close();
      },
    });
  }
}
