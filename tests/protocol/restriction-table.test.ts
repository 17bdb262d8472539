import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { connect as connectHttp2 } from "node:http2";
import { GRPCInferenceService } from "../../src/gen/grpc_service_pb.ts";
import { Health } from "../../src/gen/health_pb.ts";
import { type ApiGroup, groupOfMethod } from "../../src/protocol/restrictions.ts";
import { addSimple, TestRepository } from "../support/model-repo.ts";
import { type RawAnswer, rawHttp } from "../support/raw-http.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

/**
 * Every restricted endpoint of both ports, tried with path, Host, header and
 * method variants: without the key nothing gets through; with it the
 * canonical path (and the forms Bun resolves to it) does, and every other
 * form is 404 whatever the headers.
 */
const GROUPS =
  "health,metadata,inference,shared-memory,model-config,model-repository,statistics,trace,logging";
const KEY: [string, string] = ["admin-key", "s3cret"];
const repo = addSimple(addSimple(new TestRepository()), "victim");
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(repo.root, [
    "--model-control-mode=explicit",
    "--load-model=*",
    `--http-restricted-api=${GROUPS}:admin-key=s3cret`,
    `--grpc-restricted-protocol=${GROUPS}:admin-key=s3cret`,
  ]);
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

interface Endpoint {
  group: ApiGroup;
  method: "GET" | "POST";
  path: string;
  body?: string;
  contentType?: string;
}

const infer = JSON.stringify({
  inputs: ["INPUT0", "INPUT1"].map((name) => ({
    name,
    shape: [1, 16],
    datatype: "INT32",
    data: Array(16).fill(1),
  })),
});

const REST: Endpoint[] = [
  { group: "health", method: "GET", path: "/v2/health/live" },
  { group: "health", method: "GET", path: "/v2/health/ready" },
  { group: "health", method: "GET", path: "/v2/models/simple/ready" },
  { group: "health", method: "GET", path: "/v2/models/simple/versions/1/ready" },
  { group: "metadata", method: "GET", path: "/v2" },
  { group: "metadata", method: "GET", path: "/v2/models/simple" },
  { group: "metadata", method: "GET", path: "/v2/models/simple/versions/1" },
  { group: "statistics", method: "GET", path: "/v2/models/stats" },
  { group: "statistics", method: "GET", path: "/v2/models/simple/stats" },
  { group: "statistics", method: "GET", path: "/v2/models/simple/versions/1/stats" },
  { group: "model-config", method: "GET", path: "/v2/models/simple/config" },
  { group: "model-config", method: "GET", path: "/v2/models/simple/versions/1/config" },
  { group: "inference", method: "POST", path: "/v2/models/simple/infer", body: infer },
  { group: "inference", method: "POST", path: "/v2/models/simple/versions/1/infer", body: infer },
  { group: "model-repository", method: "POST", path: "/v2/repository/index", body: "{}" },
  { group: "model-repository", method: "POST", path: "/v2/repository/models/victim/load", body: "{}" },
  { group: "model-repository", method: "POST", path: "/v2/repository/models/victim/unload", body: "{}" },
];

const RPC_SERVICES = [GRPCInferenceService, Health];
const RPCS = RPC_SERVICES.flatMap((service) =>
  service.methods.map((method) => ({
    path: `/${service.typeName}/${method.name}`,
    group: groupOfMethod(service.typeName, method.name) as ApiGroup,
    unary: method.methodKind === "unary",
  })),
);

/** Connect (JSON) and gRPC-web (an empty message in one frame) on the HTTP port, for every RPC. */
const BROWSER_RPC: Endpoint[] = RPCS.flatMap(({ path, group, unary }) => [
  ...(unary ? [{ group, method: "POST" as const, path, body: "{}", contentType: "application/json" }] : []),
  {
    group,
    method: "POST" as const,
    path,
    body: "\u0000\u0000\u0000\u0000\u0000",
    contentType: "application/grpc-web+proto",
  },
]);

/** Forms of a path the router resolves to the same route: they must be treated exactly as the path. */
function sameRoute(path: string): string[] {
  const segments = path.split("/");
  const last = segments.length - 1;
  const forms = [`${segments.slice(0, last).join("/")}/x/../${segments[last]}`, path.replace("/", "/./")];
  if (path.includes("/simple")) forms.push(path.replace("/simple", "/%73imple"));
  return forms;
}

/** Forms of a path that match no route: 404 whatever the headers. */
function otherRoute(path: string): string[] {
  const encoded = `/%${path.charCodeAt(1).toString(16)}${path.slice(2)}`;
  return [
    `${path}/`,
    `/${path}`,
    path.replace(/\/([^/]*)$/, "//$1"),
    path.toUpperCase(),
    encoded,
    `/ab${path}`,
  ];
}

function send(
  endpoint: Endpoint,
  options: { target?: string; method?: string; host?: string | null; headers?: [string, string][] } = {},
): Promise<RawAnswer> {
  const headers: [string, string][] = [];
  if (options.host !== null) headers.push(["Host", options.host ?? `127.0.0.1:${server.httpPort}`]);
  if (endpoint.contentType) headers.push(["Content-Type", endpoint.contentType]);
  headers.push(...(options.headers ?? []));
  return rawHttp(server.httpPort as number, {
    method: options.method ?? endpoint.method,
    target: options.target ?? endpoint.path,
    headers,
    ...(endpoint.body === undefined ? {} : { body: endpoint.body }),
  });
}

const refusedStatuses = [400, 403, 404, 405];
const where = (endpoint: Endpoint, variant: string) => `${endpoint.method} ${endpoint.path} (${variant})`;

function expectRefused(answer: RawAnswer, label: string): void {
  expect({ label, refused: refusedStatuses.includes(answer.status) }).toEqual({ label, refused: true });
}

function expectStatus(answer: RawAnswer, label: string, status: number): void {
  expect({ label, status: answer.status }).toEqual({ label, status });
}

function expectAccepted(answer: RawAnswer, label: string): void {
  expect({ label, refused: refusedStatuses.slice(1).includes(answer.status) }).toEqual({
    label,
    refused: false,
  });
}

const HOSTS = ["x", "ab", "abc", "h".repeat(2000), "localhost:8000", null];
const WRONG_KEYS: [string, [string, string][]][] = [
  ["missing", []],
  ["wrong value", [["admin-key", "guess"]]],
  ["value in another case", [["admin-key", "S3CRET"]]],
  ["sent twice", [KEY, KEY]],
  ["wrong name", [["admin-keys", "s3cret"]]],
];

describe("restricted APIs over HTTP: REST, Connect and gRPC-web", () => {
  const all = [...REST, ...BROWSER_RPC];

  it("refuses every endpoint without the key, whatever the path form, Host, header or method", async () => {
    for (const endpoint of all) {
      for (const [variant, headers] of WRONG_KEYS) {
        expectStatus(await send(endpoint, { headers }), where(endpoint, variant), 403);
      }
      for (const target of sameRoute(endpoint.path)) {
        expectStatus(await send(endpoint, { target }), where(endpoint, target), 403);
      }
      for (const target of otherRoute(endpoint.path)) {
        for (const headers of [[], [KEY]]) {
          expectRefused(await send(endpoint, { target, headers }), where(endpoint, target));
        }
      }
      for (const host of HOSTS) {
        expectRefused(await send(endpoint, { host }), where(endpoint, `Host ${host?.slice(0, 10)}`));
        const moved = `/${(host ?? "").slice(0, 3)}${endpoint.path}`;
        expectRefused(
          await send(endpoint, { host, target: moved }),
          where(endpoint, `Host ${host} ${moved}`),
        );
      }
      const other = endpoint.method === "GET" ? ["POST", "PUT", "DELETE"] : ["GET", "PUT", "DELETE", "HEAD"];
      for (const method of [...other, endpoint.method === "GET" ? "HEAD" : "PATCH"]) {
        expectRefused(await send(endpoint, { method }), where(endpoint, method));
      }
    }
    // Nothing above reached a handler: both models still serve, readiness never fell.
    for (const model of ["simple", "victim"]) {
      const ready = await send(REST[2] as Endpoint, {
        target: `/v2/models/${model}/ready`,
        headers: [KEY],
      });
      expectStatus(ready, `${model} ready`, 200);
    }
    expectStatus(await send(REST[1] as Endpoint, { headers: [KEY] }), "server ready", 200);
  }, 30_000);

  it("accepts every endpoint with the key, in every form that reaches its route and with any Host", async () => {
    for (const endpoint of all) {
      const variants: [string, Parameters<typeof send>[1]][] = [
        ["canonical", { headers: [KEY] }],
        ["header name in upper case", { headers: [["ADMIN-KEY", "s3cret"]] }],
        ...sameRoute(endpoint.path).map((target): [string, Parameters<typeof send>[1]] => [
          target,
          { target, headers: [KEY] },
        ]),
        ...HOSTS.filter((host) => host !== null).map((host): [string, Parameters<typeof send>[1]] => [
          `Host ${host.slice(0, 10)}`,
          { host, headers: [KEY] },
        ]),
      ];
      for (const [variant, options] of variants) {
        const answer = await send(endpoint, options);
        expectAccepted(answer, where(endpoint, variant));
        if (endpoint.contentType === undefined) expectStatus(answer, where(endpoint, variant), 200);
      }
    }
    // The unload above was let through, and readiness stays true without the unloaded model.
    expectStatus(await send(REST[1] as Endpoint, { headers: [KEY] }), "server ready after unload", 200);
  }, 30_000);
});

/** One gRPC call on the gRPC port, by raw HTTP/2 (any :path), with an empty message. */
function grpcCall(
  path: string,
  metadata: Record<string, string | string[]>,
): Promise<{ status: string; message: string }> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2(`http://127.0.0.1:${server.grpcPort}`);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...metadata,
    });
    let status = "";
    let message = "";
    const take = (headers: Record<string, unknown>) => {
      if (headers[":status"] !== undefined && headers[":status"] !== 200)
        status ||= `http ${headers[":status"]}`;
      if (headers["grpc-status"] !== undefined) status = String(headers["grpc-status"]);
      if (headers["grpc-message"] !== undefined)
        message = decodeURIComponent(String(headers["grpc-message"]));
    };
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("data", () => {
      // A streaming answer that sends a message got past every check.
      status ||= "0";
      finish();
    });
    stream.on("error", () => undefined);
    const finish = () => {
      clearTimeout(timer);
      stream.close();
      session.close();
      resolve({ status, message });
    };
    const timer = setTimeout(finish, 2000);
    stream.on("end", finish);
    stream.end(Buffer.alloc(5));
  });
}

describe("restricted APIs on the gRPC port", () => {
  const key = "triton-grpc-protocol-admin-key";
  const restricted = `This protocol is restricted, expecting header '${key}'`;

  it("refuses every method without the key, whatever the path form", async () => {
    for (const rpc of RPCS) {
      const wrong: Record<string, string>[] = [
        {},
        { [key]: "guess" },
        { [key]: "S3CRET" },
        { "admin-key": "s3cret" },
      ];
      for (const metadata of wrong) {
        expect({ path: rpc.path, metadata, ...(await grpcCall(rpc.path, metadata)) }).toEqual({
          path: rpc.path,
          metadata,
          status: "14",
          message: restricted,
        });
      }
      for (const target of otherRoute(rpc.path)) {
        for (const metadata of [{}, { [key]: "s3cret" }] as Record<string, string>[]) {
          const answer = await grpcCall(target, metadata);
          expect({ target, passed: answer.status === "0" }).toEqual({ target, passed: false });
        }
      }
    }
  });

  it("accepts every method with the key", async () => {
    for (const rpc of RPCS) {
      const answer = await grpcCall(rpc.path, { [key]: "s3cret" });
      expect({ path: rpc.path, message: answer.message === restricted }).toEqual({
        path: rpc.path,
        message: false,
      });
      expect({ path: rpc.path, status: answer.status.startsWith("http") }).toEqual({
        path: rpc.path,
        status: false,
      });
    }
  });
});
