import { describe, expect, it } from "bun:test";
import { parseS3Url } from "../../../src/repository/s3/s3-location.ts";

describe("parseS3Url", () => {
  it("reads tritonserver's three forms", () => {
    expect(parseS3Url("s3://models/prod/triton")).toEqual({
      bucket: "models",
      prefix: "prod/triton/",
      endpoint: undefined,
      url: "s3://models/prod/triton",
    });
    expect(parseS3Url("s3://minio.local:9000/models")).toMatchObject({
      bucket: "models",
      prefix: "",
      endpoint: "http://minio.local:9000",
    });
    expect(parseS3Url("s3://https://10.0.0.5:443/models/a/")).toMatchObject({
      bucket: "models",
      prefix: "a/",
      endpoint: "https://10.0.0.5:443",
    });
  });

  it("names what is wrong with a bad URL", () => {
    expect(() => parseS3Url("gs://x/y")).toThrow("model repository 'gs://x/y': must start with s3://");
    expect(() => parseS3Url("s3://Bad_Bucket/x")).toThrow("'Bad_Bucket' is not a valid bucket name");
    expect(() => parseS3Url("s3://https://host/models")).toThrow("expected https://host:port/bucket/path");
    expect(() => parseS3Url("s3://models/a/../b")).toThrow("may not contain '.' or '..'");
  });
});
