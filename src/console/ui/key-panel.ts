import { h } from "preact";
import { useState } from "preact/hooks";
import type { RestrictedKey } from "../api.ts";

/**
 * The restricted-API key (`--http-restricted-api <groups>:<header>=<value>`):
 * until one is entered the console offers no action that changes the
 * server. It is kept in memory only and sent as that header on every call.
 */
export function KeyPanel(props: { current?: RestrictedKey; onChange: (key?: RestrictedKey) => void }) {
  const [header, setHeader] = useState("");
  const [value, setValue] = useState("");
  if (props.current) {
    return h(
      "section",
      { class: "key", id: "key-panel" },
      h(
        "span",
        { class: "mode write", id: "mode" },
        `with key '${props.current.header}': load and unload enabled`,
      ),
      h(
        "button",
        { type: "button", id: "forget-key", onClick: () => props.onChange(undefined) },
        "Forget key",
      ),
    );
  }
  return h(
    "section",
    { class: "key", id: "key-panel" },
    h("span", { class: "mode", id: "mode" }, "read-only"),
    h("input", {
      id: "key-header",
      placeholder: "restricted-API header",
      value: header,
      onInput: (event: Event) => setHeader((event.currentTarget as HTMLInputElement).value),
    }),
    h("input", {
      id: "key-value",
      type: "password",
      placeholder: "value",
      value,
      onInput: (event: Event) => setValue((event.currentTarget as HTMLInputElement).value),
    }),
    h(
      "button",
      {
        type: "button",
        id: "use-key",
        disabled: header.trim() === "",
        onClick: () => props.onChange({ header: header.trim().toLowerCase(), value }),
      },
      "Use key",
    ),
  );
}
