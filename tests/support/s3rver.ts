import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { Subprocess } from "bun";
import { freePort } from "./ports.ts";

// The servers under test find these through the AWS provider chain, as in production.
process.env.AWS_ACCESS_KEY_ID = "S3RVER";
process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";

const S3RVER = join(import.meta.dir, "../../node_modules/s3rver/bin/s3rver.js");
export const BUCKET = "models";

/**
 * s3rver in a child node process on 127.0.0.1, with a temp data directory
 * and bucket `models`; stopped (and restartable on the same port) by PID.
 */
export class S3rver {
  readonly dir = mkdtempSync(join(tmpdir(), "ferry-s3rver-"));
  readonly port: number;
  private process: Subprocess | undefined;
  private clients: S3Client[] = [];

  constructor(port = freePort()) {
    this.port = port;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The repository URL for `prefix` in Triton's host:port form. */
  url(prefix: string): string {
    return `s3://127.0.0.1:${this.port}/${BUCKET}/${prefix}`;
  }

  async start(): Promise<this> {
    this.process = Bun.spawn(
      [
        "node",
        S3RVER,
        "-d",
        this.dir,
        "-p",
        String(this.port),
        "-a",
        "127.0.0.1",
        "--configure-bucket",
        BUCKET,
        "--silent",
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    const deadline = performance.now() + 15_000;
    for (;;) {
      try {
        await fetch(`${this.endpoint}/`, { signal: AbortSignal.timeout(500) });
        return this;
      } catch {
        if (performance.now() > deadline) throw new Error(`s3rver did not start on port ${this.port}`);
        await Bun.sleep(50);
      }
    }
  }

  /** Kills the process by PID and waits for it to exit (the data directory stays). */
  async stop(): Promise<void> {
    const process = this.process;
    this.process = undefined;
    if (!process) return;
    process.kill("SIGKILL");
    await process.exited;
  }

  async remove(): Promise<void> {
    for (const client of this.clients) client.destroy();
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  client(endpoint = this.endpoint): S3Client {
    const client = new S3Client({
      region: "us-east-1",
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    this.clients.push(client);
    return client;
  }

  async put(key: string, body: string | Uint8Array): Promise<string | undefined> {
    const result = await this.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    return result.ETag;
  }

  async etag(key: string): Promise<string | undefined> {
    try {
      return (await this.client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ETag;
    } catch {
      return undefined;
    }
  }

  /** Uploads every file under a local directory to `prefix/`. */
  async upload(localDir: string, prefix: string): Promise<void> {
    for (const path of walk(localDir)) {
      await this.put(`${prefix}${relative(localDir, path).split("\\").join("/")}`, readFileSync(path));
    }
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/**
 * A reverse proxy in front of s3rver that records every request, and can
 * enforce If-Match / If-None-Match on PutObject as S3 does (s3rver ignores
 * them): under a lock it reads the object's current ETag and answers 412
 * PreconditionFailed when the condition does not hold.
 */
export class S3Proxy {
  readonly seen: SeenRequest[] = [];
  enforceConditions = false;
  /** Milliseconds to hold every answer (timeouts). */
  delayMs = 0;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly server: ReturnType<typeof Bun.serve>;

  constructor(private readonly target: S3rver) {
    this.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => this.handle(request) });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  url(prefix: string): string {
    return `s3://127.0.0.1:${this.server.port}/${BUCKET}/${prefix}`;
  }

  /** Requests of one method whose path contains `fragment`. */
  count(method: string, fragment: string): number {
    return this.seen.filter((request) => request.method === method && request.path.includes(fragment)).length;
  }

  stop(): void {
    this.server.stop(true);
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    this.seen.push({
      method: request.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
    });
    if (this.delayMs > 0) await Bun.sleep(this.delayMs);
    const conditional = request.headers.has("if-match") || request.headers.has("if-none-match");
    if (request.method === "PUT" && this.enforceConditions && conditional) {
      const run = this.lock.then(() => this.conditionalPut(request, url));
      this.lock = run.catch(() => undefined);
      return run;
    }
    return this.forward(request, url);
  }

  private async conditionalPut(request: Request, url: URL): Promise<Response> {
    const key = decodeURIComponent(url.pathname.slice(`/${BUCKET}/`.length));
    const current = await this.target.etag(key);
    const ifMatch = request.headers.get("if-match");
    const ifNoneMatch = request.headers.get("if-none-match");
    const holds = ifMatch !== null ? current === ifMatch : !(ifNoneMatch === "*" && current !== undefined);
    if (!holds) {
      return new Response(
        '<?xml version="1.0"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>',
        { status: 412, headers: { "content-type": "application/xml" } },
      );
    }
    return this.forward(request, url);
  }

  private async forward(request: Request, url: URL): Promise<Response> {
    const answer = await relay(request, `${this.target.endpoint}${url.pathname}${url.search}`);
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  }
}

/** Sends `request` on to `url` as it came (method, headers, body); the answer is not decompressed. */
export async function relay(request: Request, url: string): Promise<Response> {
  const body =
    request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  return fetch(url, {
    method: request.method,
    headers: request.headers,
    body,
    redirect: "manual",
    decompress: false,
  } as RequestInit);
}
