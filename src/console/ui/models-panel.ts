import { h } from "preact";
import { useState } from "preact/hooks";
import type { ConsoleApi, IndexRow, ReadinessReport, VersionReport } from "../api.ts";
import { table } from "./table.ts";

/**
 * Models and versions with state, reason and readiness checks (the verbose
 * ready probe). With a restricted key, load and unload through the
 * repository API; models the repository holds but nobody loaded show too.
 */
export function ModelsPanel(props: {
  api: ConsoleApi;
  report?: ReadinessReport;
  index?: IndexRow[];
  error?: string;
  writable: boolean;
}) {
  const [action, setAction] = useState<string>("");
  const run = async (verb: "load" | "unload", model: string) => {
    setAction(`${verb} ${model}…`);
    try {
      await (verb === "load" ? props.api.load(model) : props.api.unload(model));
      setAction(`${verb} ${model}: done`);
    } catch (error) {
      setAction(String(error));
    }
  };
  const report = props.report;
  const known = new Set(report?.models.map((model) => model.name));
  const unloaded = [...new Set((props.index ?? []).map((row) => row.name))].filter(
    (name) => !known.has(name),
  );
  return h(
    "section",
    { id: "models" },
    h("h2", null, "Models ", report ? badge(report.ready, `server ${report.phase}`) : null),
    props.error ? h("p", { class: "error" }, props.error) : null,
    table(
      ["model", "version", "state", "reason", "ready", "checks", ""],
      [
        ...(report?.models ?? []).flatMap((model) =>
          (model.versions.length > 0 ? model.versions : [undefined]).map((version, index) =>
            versionRow(model.name, model.ready, version, index === 0 && props.writable, run),
          ),
        ),
        ...unloaded.map((name) =>
          h(
            "tr",
            { "data-model": name },
            h("td", null, name),
            h("td", { colSpan: 5 }, "not loaded"),
            h("td", null, props.writable ? actionButton("load", name, run) : null),
          ),
        ),
      ],
    ),
    action ? h("p", { id: "model-action" }, action) : null,
  );
}

function versionRow(
  model: string,
  modelReady: boolean,
  version: VersionReport | undefined,
  withActions: boolean,
  run: (verb: "load" | "unload", model: string) => void,
) {
  return h(
    "tr",
    {
      "data-model": model,
      "data-version": version?.version ?? "",
      "data-ready": String(version?.ready ?? modelReady),
    },
    h("td", null, model),
    h("td", null, version?.version ?? "–"),
    h("td", { class: `state ${version?.state ?? ""}` }, version?.state ?? "–"),
    h("td", { class: "reason" }, version?.reason ?? ""),
    h("td", null, badge(version?.ready ?? modelReady, version?.ready ? "ready" : "not ready")),
    h(
      "td",
      { class: "checks" },
      ...(version?.checks ?? []).map((check) =>
        h("span", { class: `check ${check.status}`, title: check.detail }, `${check.name}: ${check.status}`),
      ),
    ),
    h(
      "td",
      null,
      withActions ? [actionButton("load", model, run), actionButton("unload", model, run)] : null,
    ),
  );
}

function actionButton(
  verb: "load" | "unload",
  model: string,
  run: (verb: "load" | "unload", model: string) => void,
) {
  return h(
    "button",
    {
      type: "button",
      class: `action ${verb}`,
      "data-action": `${verb}:${model}`,
      onClick: () => run(verb, model),
    },
    verb === "load" ? "Load" : "Unload",
  );
}

function badge(ok: boolean, text: string) {
  return h("span", { class: ok ? "badge ok" : "badge bad" }, text);
}
