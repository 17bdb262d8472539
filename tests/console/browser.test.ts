/**
 * The web console in headless Chromium (Debian's `chromium`, driven by
 * puppeteer-core). The page comes from one ferry and talks to another on a
 * different origin (`?server=`, allowed there by --cors-allow-origin), as
 * README "Web console" documents. No Chromium is a failure, never a skip:
 * .ci/run installs it.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { LocalSource } from "../../src/repository/local-source.ts";
import { promote } from "../../src/repository/promotion.ts";
import { OCR_FIXTURE, OCR_FIXTURE_LINES } from "../fixtures/make-ocr-fixture.ts";
import { TestRepository } from "../support/model-repo.ts";
import { identityModel } from "../support/onnx-builder.ts";
import { startTestServer, type TestServer } from "../support/test-server.ts";

const MODELS = join(import.meta.dir, "..", "..", "models");
const SCREENSHOT = join(import.meta.dir, "..", "artifacts", "console.png");
const KEY = { header: "admin-key", value: "s3cret" };
const WAIT = { timeout: 20_000 };

function chromiumPath(): string | undefined {
  const named = process.env.CHROMIUM_PATH;
  if (named) return named;
  if (existsSync("/usr/bin/chromium")) return "/usr/bin/chromium";
  return Bun.which("chromium") ?? Bun.which("chromium-browser") ?? undefined;
}

const canaryRepo = new TestRepository().addModel("canary", {
  config: "max_batch_size: 2 version_policy { all {} }",
  versions: { 1: identityModel("FP32", ["b", 2]), 2: identityModel("FP32", ["b", 2]) },
});
const emptyRepo = new TestRepository();
const profile = mkdtempSync(join(tmpdir(), "ferry-chromium-"));
/** Serves the console page: the page's origin. */
let pageServer: TestServer;
/** Serves the API the page calls: another origin. */
let apiServer: TestServer;
let browser: Browser | undefined;
let launchError: unknown;
let page: Page;
const pageErrors: string[] = [];
/** ModelInfer answers the page received: content type and CORS header. */
const inferAnswers: { type: string; allowOrigin: string }[] = [];

beforeAll(async () => {
  const store = new LocalSource(canaryRepo.root);
  await promote(store, "canary", "1", { by: "alice", note: "first release" });
  await promote(store, "canary", "2", { by: "bob", weight: 10 });
  pageServer = await startTestServer(emptyRepo.root);
  apiServer = await startTestServer(MODELS, [
    `--model-repository=${canaryRepo.root}`,
    "--model-control-mode=explicit",
    "--load-model=simple",
    "--load-model=ocr",
    "--load-model=canary",
    `--cors-allow-origin=${pageServer.url}`,
    `--http-restricted-api=model-repository:${KEY.header}=${KEY.value}`,
    "--console=false",
  ]);
  const executablePath = chromiumPath();
  try {
    if (!executablePath) throw new Error("no chromium on PATH or at /usr/bin/chromium");
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      userDataDir: profile,
      args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
      timeout: 30_000,
      protocolTimeout: 30_000,
    });
  } catch (error) {
    launchError = error;
    return;
  }
  page = await browser.newPage();
  page.setDefaultTimeout(WAIT.timeout);
  await page.setViewport({ width: 1200, height: 900 });
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("response", (response) => {
    const call = response.request();
    // The calls themselves, not their CORS preflights.
    if (call.method() === "POST" && call.url().endsWith("/inference.GRPCInferenceService/ModelInfer"))
      inferAnswers.push({
        type: response.headers()["content-type"] ?? "",
        allowOrigin: response.headers()["access-control-allow-origin"] ?? "",
      });
  });
}, 120_000);

afterAll(async () => {
  const pid = browser?.process()?.pid;
  await Promise.race([browser?.close(), Bun.sleep(5000)]).catch(() => undefined);
  if (pid !== undefined) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await Promise.all([pageServer?.stop(), apiServer?.stop()]);
  for (const repo of [canaryRepo, emptyRepo]) repo.remove();
  rmSync(profile, { recursive: true, force: true });
}, 30_000);

/** Fails, with why, when Chromium did not start: CI must have a browser. */
function started(): Page {
  if (!browser)
    throw new Error(
      `Chromium could not start (${String(launchError)}); install Debian's chromium (apt-get install chromium), as .ci/run does`,
    );
  return page;
}

const text = (selector: string) => started().$eval(selector, (element) => element.textContent ?? "");
const texts = (selector: string) =>
  started().$$eval(selector, (elements) => elements.map((element) => element.textContent ?? ""));

/** Waits until the element's text contains `expected` (the page renders as answers arrive). */
async function untilText(selector: string, expected: string): Promise<void> {
  const found = `document.querySelector(${JSON.stringify(selector)})?.textContent?.includes(${JSON.stringify(expected)})`;
  await started().waitForFunction(found, WAIT);
}

async function inferOver(transport: "connect" | "grpc-web") {
  await started().select("#transport", transport);
  await started().click("#try-run");
  await untilText("#try-status", `done over ${transport}`);
  return {
    sum: await text('tr[data-output="OUTPUT0"] td.values'),
    difference: await text('tr[data-output="OUTPUT1"] td.values'),
    stages: await started().$$eval("[data-timing]", (bars) =>
      bars.map((bar) => bar.getAttribute("data-timing")),
    ),
  };
}

describe("the web console in Chromium, served from another origin", () => {
  it("starts Chromium and opens the console against the API server", async () => {
    const consoleUrl = `${pageServer.url}/console?server=${encodeURIComponent(apiServer.url)}`;
    expect(new URL(consoleUrl).origin).not.toBe(new URL(apiServer.url).origin);
    await started().goto(consoleUrl, { waitUntil: "load" });
    expect(await text("#server")).toBe(apiServer.url);
  });

  it("lists the models with their versions, states and readiness checks", async () => {
    await started().waitForSelector('tr[data-model="simple"][data-version="1"][data-ready="true"]', WAIT);
    await started().waitForSelector('tr[data-model="ocr"][data-ready="true"]', WAIT);
    expect(await text('tr[data-model="simple"] td.state')).toBe("READY");
    expect(await texts('tr[data-model="simple"] .check')).not.toEqual([]);
    expect(await text("#models h2 .badge")).toBe("server READY");
  });

  it("is read-only until the restricted-API key is entered", async () => {
    expect(await text("#mode")).toBe("read-only");
    expect(await started().$$("[data-action]")).toEqual([]);
  });

  it("infers from the page through connect-web over Connect and over gRPC-web", async () => {
    await untilText("#try-model", "simple");
    await started().select("#try-model", "simple");
    await started().waitForSelector('fieldset[data-input="INPUT1"]', WAIT);
    // The panel's first request: INPUT0 = 0…15, INPUT1 = ones.
    const sum = Array.from({ length: 16 }, (_, index) => index + 1).join(", ");
    const difference = Array.from({ length: 16 }, (_, index) => index - 1).join(", ");
    for (const transport of ["connect", "grpc-web"] as const) {
      const answer = await inferOver(transport);
      expect(answer.sum).toBe(sum);
      expect(answer.difference).toBe(difference);
      expect(answer.stages).toEqual([
        "queue",
        "compute_input",
        "compute_infer",
        "compute_output",
        "round trip (browser)",
      ]);
    }
    expect(inferAnswers).toEqual([
      { type: "application/proto", allowOrigin: pageServer.url },
      { type: "application/grpc-web+proto", allowOrigin: pageServer.url },
    ]);
  });

  it("reads an uploaded image with the ocr pipeline and shows its boxes and text", async () => {
    await started().select("#transport", "connect");
    const upload = await started().waitForSelector("#ocr-file", WAIT);
    await upload?.uploadFile(OCR_FIXTURE);
    await started().waitForSelector("#ocr-lines li", WAIT);
    expect(await texts("#ocr-lines li")).toEqual(
      OCR_FIXTURE_LINES.map((line) => expect.stringContaining(line)),
    );
    expect((await started().$$(".ocr-box")).length).toBe(OCR_FIXTURE_LINES.length);
  });

  it("shows the canary split and promotion history, and live statistics", async () => {
    expect(await texts('[data-promotion="canary"] .route')).toEqual(["v1 90%", "v2 10%"]);
    expect(await texts('[data-promotion="canary"] .history li')).toEqual([
      expect.stringMatching(/^revision 2: v1 90%, v2 10% — bob/),
      expect.stringMatching(/^revision 1: v1 100% — alice, .* \(first release\)$/),
    ]);
    await started().waitForSelector('tr[data-live="simple/1"]', WAIT);
  });

  it("offers load and unload once the key is entered, and they work", async () => {
    await started().type("#key-header", KEY.header);
    await started().type("#key-value", KEY.value);
    await started().click("#use-key");
    await started().waitForSelector('[data-action="unload:simple"]', WAIT);
    expect(await text("#mode")).toContain("load and unload enabled");
    await started().click('[data-action="load:canary"]');
    await untilText("#model-action", "load canary: done");
  });

  it("saves a screenshot as a test artifact, with no script errors on the page", async () => {
    mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
    await started().screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`console screenshot: ${SCREENSHOT}`);
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
