/** A TCP port nobody listens on right now, on 127.0.0.1 (the OS picks; never 8000-8002 in practice). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}
