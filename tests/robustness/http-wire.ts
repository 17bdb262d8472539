import { connect, type Socket } from "node:net";

/** One HTTP/1.1 answer as read off the wire (header names lower-cased). */
export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Splits complete answers off the front of `data` (each framed by
 * Content-Length, which every ferry answer carries); `rest` is an
 * incomplete tail.
 */
export function parseAnswers(data: Buffer): { answers: WireAnswer[]; rest: Buffer } {
  const answers: WireAnswer[] = [];
  let rest = data;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) break;
    const [statusLine = "", ...lines] = rest.subarray(0, end).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (rest.length < end + 4 + length) break;
    answers.push({
      status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0),
      headers,
      body: rest.subarray(end + 4, end + 4 + length).toString(),
    });
    rest = rest.subarray(end + 4 + length);
  }
  return { answers, rest };
}

export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Writes `payload` (one or more requests) in one write and reads `count`
 * answers; rejects if the connection ends or fails first, or after
 * `timeoutMs`.
 */
export function exchange(
  socket: Socket,
  payload: string,
  count = 1,
  timeoutMs = 10_000,
): Promise<WireAnswer[]> {
  return new Promise((resolve, reject) => {
    let data: Buffer = Buffer.alloc(0);
    let answers: WireAnswer[] = [];
    let received = 0;
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.off("data", onData).off("error", done).off("close", onClose);
      if (error) reject(Object.assign(error, { received }));
      else resolve(answers);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      const parsed = parseAnswers(Buffer.concat([data, chunk]));
      answers = answers.concat(parsed.answers);
      data = parsed.rest;
      if (answers.length >= count) done();
    };
    const onClose = () => done(new Error(`connection closed after ${answers.length} of ${count} answers`));
    const timer = setTimeout(
      () => done(new Error(`${answers.length} of ${count} answers in ${timeoutMs}ms`)),
      timeoutMs,
    );
    socket.on("data", onData).on("error", done).on("close", onClose);
    socket.write(payload);
  });
}
