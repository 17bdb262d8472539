import { connect } from "node:net";

export interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}

/**
 * Sends one HTTP/1.1 request exactly as written (request target, Host and
 * repeated headers included, which fetch would normalise) on a fresh
 * connection, and reads the answer until the server closes it.
 */
export function rawHttp(
  port: number,
  request: { method: string; target: string; headers: [string, string][]; body?: string },
): Promise<RawAnswer> {
  const body = request.body ?? "";
  const head = [
    `${request.method} ${request.target} HTTP/1.1`,
    ...request.headers.map(([name, value]) => `${name}: ${value}`),
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(`${head}\r\n\r\n${body}`));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no answer to ${request.target}`)), 5000);
    let quiet: ReturnType<typeof setTimeout> | undefined;
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(quiet);
      if (Buffer.concat(chunks).includes("\r\n\r\n")) quiet = setTimeout(() => socket.destroy(), 300);
    });
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(timer);
      clearTimeout(quiet);
      const text = Buffer.concat(chunks).toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, headers: text.slice(0, split), body: text.slice(split + 4) });
    });
  });
}
