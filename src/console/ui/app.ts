import { h } from "preact";
import { useMemo, useRef, useState } from "preact/hooks";
import { ConsoleApi, type RestrictedKey } from "../api.ts";
import type { BrowserTransport } from "../infer.ts";
import { LiveStats } from "../live-stats.ts";
import { OCR_MODEL } from "../ocr.ts";
import { KeyPanel } from "./key-panel.ts";
import { LivePanel } from "./live-panel.ts";
import { ModelsPanel } from "./models-panel.ts";
import { OcrPanel } from "./ocr-panel.ts";
import { usePolling } from "./polling.ts";
import { PromotionsPanel } from "./promotions-panel.ts";
import { TryPanel } from "./try-panel.ts";

const REFRESH_MS = 2000;

/** The console: one page over one API server (this one, or `?server=`). */
export function App(props: { baseUrl: string }) {
  const [key, setKey] = useState<RestrictedKey>();
  const [transport, setTransport] = useState<BrowserTransport>("connect");
  const api = useMemo(() => new ConsoleApi(props.baseUrl, key), [props.baseUrl, key]);
  const live = useRef(new LiveStats());
  const readiness = usePolling(() => api.readiness(), REFRESH_MS, api);
  const index = usePolling(() => (key ? api.repositoryIndex() : Promise.resolve([])), REFRESH_MS, api);
  const promotions = usePolling(() => api.promotions(), REFRESH_MS, api);
  const figures = usePolling(
    async () => live.current.add({ atMs: performance.now(), stats: await api.statistics() }),
    REFRESH_MS,
    api,
  );
  const ready = (readiness.value?.models ?? [])
    .filter((model) => model.versions.some((version) => version.state === "READY"))
    .map((model) => model.name);

  return h(
    "main",
    null,
    h(
      "header",
      null,
      h("h1", null, "ferry console"),
      h("span", { id: "server", class: "hint" }, props.baseUrl),
      h(
        "label",
        { class: "transport" },
        "transport ",
        h(
          "select",
          {
            id: "transport",
            value: transport,
            onChange: (event: Event) =>
              setTransport((event.currentTarget as HTMLSelectElement).value as BrowserTransport),
          },
          h("option", { value: "connect" }, "Connect"),
          h("option", { value: "grpc-web" }, "gRPC-web"),
        ),
      ),
      h(KeyPanel, { current: key, onChange: setKey }),
    ),
    h(ModelsPanel, {
      api,
      report: readiness.value,
      index: index.value,
      error: readiness.error ?? index.error,
      writable: key !== undefined,
    }),
    h(LivePanel, { figures: figures.value ?? [], error: figures.error, refreshMs: REFRESH_MS }),
    h(PromotionsPanel, { promotions: promotions.value, error: promotions.error }),
    h(TryPanel, { api, models: ready, transport }),
    ready.includes(OCR_MODEL) ? h(OcrPanel, { api, transport }) : null,
  );
}
