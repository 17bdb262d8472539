import { describe, expect, it } from "bun:test";
import { FlagError } from "../../src/cli/flags.ts";
import { type ServeOptions, serveOptions } from "../../src/cli/serve-options.ts";

const parse = (...argv: string[]) => serveOptions(["--model-repository=/m", ...argv]) as ServeOptions;

describe("serveOptions", () => {
  it("has tritonserver's defaults", () => {
    const options = parse();
    expect(options).toMatchObject({
      modelRepositories: ["/m"],
      httpPort: 8000,
      grpcPort: 8001,
      metricsPort: 8002,
      controlMode: "none",
      strictReadiness: true,
      exitTimeoutSecs: 30,
      autoCompleteConfig: true,
      httpMaxInputSize: 67108864,
      defaultMaxBatchSize: 4,
    });
  });

  it("reads --name=value, --name value, repeated flags and bare booleans", () => {
    const options = parse(
      "--http-port",
      "9000",
      "--model-store=/n",
      "--strict-readiness=false",
      "--disable-auto-complete-config",
    );
    expect(options.httpPort).toBe(9000);
    expect(options.modelRepositories).toEqual(["/m", "/n"]);
    expect(options.strictReadiness).toBe(false);
    expect(options.autoCompleteConfig).toBe(false);
  });

  it("accepts explicit mode with models to load", () => {
    const options = parse("--model-control-mode=EXPLICIT", "--load-model=a", "--load-model", "b");
    expect(options.controlMode).toBe("explicit");
    expect(options.loadModels).toEqual(["a", "b"]);
  });

  it("serves the web console unless --console=false", () => {
    expect(parse().console).toBe(true);
    expect(parse("--console=false").console).toBe(false);
    expect(parse("--console").console).toBe(true);
  });

  it("reads backend and metrics settings", () => {
    const options = parse(
      "--backend-config=onnxruntime,default-max-batch-size=16",
      "--metrics-config=histogram_latencies=false",
    );
    expect(options.defaultMaxBatchSize).toBe(16);
    expect(options.histogramLatencies).toBe(false);
  });

  const bad: [string[], string][] = [
    [["--max-batch=3"], "unknown flag '--max-batch' (see --help)"],
    [["--http-port=eighty"], "flag '--http-port' expects an integer, got 'eighty'"],
    [["--http-port=70000"], "flag '--http-port' must be a port in [0, 65535], got 70000"],
    [
      ["--model-control-mode=sometimes"],
      "flag '--model-control-mode' expects one of none|explicit|poll, got 'sometimes'",
    ],
    [["--load-model=a"], "--load-model needs --model-control-mode=explicit"],
    [
      ["--model-control-mode=explicit", "--load-model=*", "--load-model=b"],
      "--load-model=* must be the only --load-model",
    ],
    [["--strict-readiness=maybe"], "flag '--strict-readiness' expects true or false, got 'maybe'"],
    [["--exit-timeout-secs=-1"], "flag '--exit-timeout-secs' must be >= 0, got -1"],
    [["--http-port"], "flag '--http-port' needs a value"],
    [["--backend-config=tensorrt,default-max-batch-size=2"], "unknown backend 'tensorrt'"],
    [["stray"], "unexpected argument 'stray'"],
    [
      ["--s3-endpoint=minio 9000"],
      "flag '--s3-endpoint' expects a URL like http://host:port, got 'minio 9000'",
    ],
    [["--s3-proxy=socks5://p:1"], "flag '--s3-proxy' expects an http:// or https:// URL"],
    [["--s3-region=EU West"], "flag '--s3-region' expects a region like eu-west-1"],
    [["--s3-timeout-ms=0"], "flag '--s3-timeout-ms' must be >= 1, got 0"],
    [["--model-repository=s3://Bad_Bucket/x"], "'Bad_Bucket' is not a valid bucket name"],
    [["--model-repository=gs://bucket/x"], "only local paths and s3:// are supported"],
  ];
  for (const [argv, message] of bad) {
    it(`rejects ${argv.join(" ")}`, () => {
      expect(() => parse(...argv)).toThrow(FlagError);
      expect(() => parse(...argv)).toThrow(message);
    });
  }

  it("reads S3 settings", () => {
    const options = serveOptions([
      "--model-repository=s3://minio:9000/models/prod",
      "--s3-endpoint=http://minio:9000/",
      "--s3-region=eu-west-1",
      "--s3-force-path-style=false",
      "--s3-proxy=http://proxy:3128",
      "--s3-timeout-ms=1000",
      "--s3-max-attempts=5",
    ]);
    expect(options !== "help" && options.s3).toEqual({
      endpoint: "http://minio:9000",
      region: "eu-west-1",
      forcePathStyle: false,
      proxy: "http://proxy:3128",
      timeoutMs: 1000,
      maxAttempts: 5,
    });
  });

  it("requires a model repository", () => {
    expect(() => serveOptions([])).toThrow("--model-repository is required");
  });

  it("recognises --help", () => {
    expect(serveOptions(["--help"])).toBe("help");
  });
});
