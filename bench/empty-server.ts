/** The floor of any HTTP server here: Bun.serve answering 200 with no body. `bun bench/empty-server.ts <port>`. */
const server = Bun.serve({
  port: Number(process.argv[2]),
  hostname: "127.0.0.1",
  async fetch(request) {
    await request.arrayBuffer();
    return new Response(null);
  },
});
console.log(`empty server on ${server.port}`);
