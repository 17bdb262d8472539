import { describe, expect, it } from "bun:test";
import { apiBaseUrl } from "../../src/console/server-address.ts";

describe("apiBaseUrl", () => {
  const page = "http://console.example:8000";

  it("is the page's own server unless ?server= names another", () => {
    expect(apiBaseUrl("", page)).toBe(page);
    expect(apiBaseUrl("?server=http://ferry.example:8000/", page)).toBe("http://ferry.example:8000");
    expect(apiBaseUrl("?server=https://gateway.example/ferry/", page)).toBe("https://gateway.example/ferry");
  });

  it("refuses what is not an http(s) URL", () => {
    expect(() => apiBaseUrl("?server=javascript:alert(1)", page)).toThrow("?server= must be an http(s) URL");
  });
});
