import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { FerryError } from "../../../src/core/errors.ts";
import { OFF_LOOP_JSON_BYTES, parseJsonOffLoop } from "../../../src/protocol/http/json-off-loop.ts";
import { addIdentities, TestRepository } from "../../support/model-repo.ts";
import { startTestServer, type TestServer } from "../../support/test-server.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseJsonOffLoop", () => {
  it("parses in a worker and hands flat numeric data back as typed arrays", async () => {
    const body = {
      id: "a",
      inputs: [
        { name: "X", datatype: "FP32", shape: [3], data: [1.5, 2, -3] },
        { name: "Y", datatype: "INT8", shape: [2], data: [1, 300] },
        { name: "Z", datatype: "BYTES", shape: [1], data: ["s"] },
      ],
    };
    const parsed = (await parseJsonOffLoop(bytes(JSON.stringify(body)))) as typeof body;
    expect(parsed.id).toBe("a");
    expect(parsed.inputs[0]?.data).toEqual(new Float32Array([1.5, 2, -3]) as never);
    // Out of range for INT8 or not numbers: left as parsed, so the server's checks name the problem.
    expect(parsed.inputs[1]?.data).toEqual([1, 300]);
    expect(parsed.inputs[2]?.data).toEqual(["s"]);
  });

  it("refuses malformed JSON as the inline parser does", async () => {
    const failure = await parseJsonOffLoop(bytes('{"inputs": [')).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(FerryError);
    expect((failure as FerryError).code).toBe("INVALID_ARGUMENT");
    expect((failure as FerryError).message).toStartWith("protocol: malformed JSON in request body: ");
  });
});

describe("large JSON infer bodies", () => {
  const repo = addIdentities(new TestRepository(), ["FP32"]);
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(repo.root);
  });
  afterAll(async () => {
    await server.stop();
    repo.remove();
  });
  // Comfortably over the off-loop threshold.
  const count = Math.ceil(OFF_LOOP_JSON_BYTES / 8) + 1000;
  const values = Array.from({ length: count }, (_, i) => (i % 1000) / 8);
  const infer = (data: unknown[]) =>
    fetch(`${server.url}/v2/models/identity_fp32/infer`, {
      method: "POST",
      body: JSON.stringify({ inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, data.length], data }] }),
    });

  it("answers them exactly", async () => {
    const response = await infer(values);
    expect(response.status).toBe(200);
    const { outputs } = (await response.json()) as { outputs: { data: number[] }[] };
    expect(outputs[0]?.data).toEqual(values);
  });

  it("names a bad element as the inline path does", async () => {
    const response = await infer([...values.slice(1), "x"]);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain(`INPUT0`);
  });

  it("refuses a malformed large body with 400", async () => {
    const response = await fetch(`${server.url}/v2/models/identity_fp32/infer`, {
      method: "POST",
      body: `{"inputs": [{"data": [${values.join(",")}`,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toStartWith(
      "protocol: malformed JSON in request body: ",
    );
  });
});
