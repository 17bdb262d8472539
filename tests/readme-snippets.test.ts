import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SERVE_FLAGS } from "../src/cli/serve-options.ts";
import { addSimple, TestRepository } from "./support/model-repo.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const root = join(import.meta.dir, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const repo = addSimple(new TestRepository());
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(repo.root);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

/** The code block whose first line is `// README: <name>`. */
function snippet(name: string): string {
  const match = new RegExp(`\`\`\`[a-z]+\\n// README: ${name}\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`README has no snippet '${name}'`);
  return match[1];
}

async function run(command: string[], cwd: string): Promise<string> {
  const child = Bun.spawn(command, { cwd, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${command.join(" ")} failed: ${stderr}`);
  return stdout;
}

const EXPECTED = "OUTPUT0 [ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 ]";
/** console.log layout differs between Node and Bun; compare the values. */
const normalize = (output: string) => output.replace(/\s+/g, " ").replace(/, \]/, " ]").trim();

describe("README snippets work as written", () => {
  it("the grpc-js snippet, under Node.js from the repository root", async () => {
    const code = snippet("grpc-js").replace("localhost:8001", `127.0.0.1:${server.grpcPort}`);
    const file = join(root, "node_modules", ".readme-grpc-js.cjs");
    writeFileSync(
      file,
      code.replace('includeDirs: ["proto"]', `includeDirs: [${JSON.stringify(join(root, "proto"))}]`),
    );
    try {
      const output = await run(["node", file], root);
      expect(normalize(output)).toBe(EXPECTED);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("the connect-web snippet, with fetch as in a browser", async () => {
    const code = snippet("connect-web")
      .replace("http://localhost:8000", server.url)
      .replace("./src/gen/grpc_service_pb.ts", join(root, "src/gen/grpc_service_pb.ts"));
    const file = join(root, "node_modules", ".readme-connect-web.ts");
    writeFileSync(file, code);
    try {
      const output = await run([process.execPath, file], root);
      expect(normalize(output)).toBe(EXPECTED);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

describe("README reference", () => {
  it("lists the extensions exactly as GET /v2 reports them", async () => {
    const { extensions } = (await (await fetch(`${server.url}/v2`)).json()) as { extensions: string[] };
    const listed = /as `GET \/v2`\s+reports them: ([^.]+)\./.exec(readme)?.[1] ?? "";
    expect([...listed.matchAll(/`([^`]+)`/g)].map((match) => match[1])).toEqual(extensions);
  });

  it("walks a new user through adding a model and a first S3 promotion", () => {
    for (const heading of ["## Add your own model", "## S3 quickstart"]) expect(readme).toContain(heading);
    // The first promotion comes before the second version, and the reason is given.
    const quickstart = readme.slice(readme.indexOf("## S3 quickstart"));
    expect(quickstart.indexOf("promote simple 1")).toBeLessThan(quickstart.indexOf("promote simple 2"));
    expect(quickstart).toContain("version_policy");
  });

  it("documents every serving flag", () => {
    const missing = SERVE_FLAGS.filter((flag) => flag.name !== "help" && !readme.includes(`--${flag.name}`));
    expect(missing.map((flag) => flag.name)).toEqual([]);
  });

  it("shows a promotion manifest with every field the parser allows", () => {
    for (const field of [
      "schema",
      "model",
      "revision",
      "serving",
      "weight",
      "files",
      "validation",
      "max_latency_ms",
      "device",
      "gpu",
      "runtime",
      "ferry",
      "onnxruntime_node",
      "bun",
      "execution_provider",
      "pipeline",
      "promoted_by",
      "promoted_at",
      "note",
      "history",
    ]) {
      expect(readme).toContain(`"${field}"`);
    }
  });
});
