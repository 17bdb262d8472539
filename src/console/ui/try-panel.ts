import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { ConsoleApi, ModelMetadata, TensorMetadata } from "../api.ts";
import { type BrowserTransport, type InferResult, inferFromBrowser } from "../infer.ts";
import { decodeOutput, defaultShape, encodeInput, parseShape } from "../tensors.ts";
import { table } from "./table.ts";
import { TimingBars } from "./timing-bars.ts";

interface Field {
  shape: string;
  values: string;
}

/** Something to send that the model accepts: 0, 1, 2, … for the first input, ones for the others. */
function defaultField(input: TensorMetadata, index: number): Field {
  const shape = defaultShape(input.shape);
  const count = shape.reduce((product, dim) => product * dim, 1);
  const values =
    input.datatype === "BYTES"
      ? Array.from({ length: count }, () => "hello").join("\n")
      : Array.from({ length: count }, (_, element) => (index === 0 ? element : 1)).join(", ");
  return { shape: shape.join(", "), values };
}

/**
 * "Try it": one ModelInfer from the page through connect-web, over Connect
 * or gRPC-web as chosen above, with the outputs and the answer's
 * Server-Timing breakdown.
 */
export function TryPanel(props: { api: ConsoleApi; models: string[]; transport: BrowserTransport }) {
  const [model, setModel] = useState("");
  const [metadata, setMetadata] = useState<ModelMetadata>();
  const [fields, setFields] = useState<Record<string, Field>>({});
  const [result, setResult] = useState<InferResult>();
  const [status, setStatus] = useState("");
  const chosen = model || props.models[0] || "";

  useEffect(() => {
    setMetadata(undefined);
    setResult(undefined);
    if (!chosen) return;
    props.api
      .modelMetadata(chosen)
      .then((found) => {
        setMetadata(found);
        setFields(
          Object.fromEntries(found.inputs.map((input, index) => [input.name, defaultField(input, index)])),
        );
      })
      .catch((error: unknown) => setStatus(String(error)));
    // A restricted key entered later keeps what was typed: the next run sends it.
  }, [chosen, props.api.baseUrl]);

  const run = async () => {
    if (!metadata) return;
    setStatus(`running over ${props.transport}…`);
    setResult(undefined);
    try {
      const inputs = metadata.inputs.map((input) => {
        const field = fields[input.name] ?? defaultField(input, 0);
        const shape = parseShape(field.shape);
        return {
          name: input.name,
          datatype: input.datatype,
          shape,
          bytes: encodeInput(input.datatype, shape, field.values),
        };
      });
      const answer = await inferFromBrowser({
        baseUrl: props.api.baseUrl,
        transport: props.transport,
        model: chosen,
        inputs,
        headers: props.api.headers(),
      });
      setResult(answer);
      setStatus(`done over ${props.transport} in ${answer.elapsedMs.toFixed(1)} ms`);
    } catch (error) {
      setStatus(`failed over ${props.transport}: ${String(error)}`);
    }
  };

  const setField = (name: string, change: Partial<Field>) =>
    setFields((current) => ({
      ...current,
      [name]: { ...(current[name] ?? { shape: "", values: "" }), ...change },
    }));

  return h(
    "section",
    { id: "try" },
    h("h2", null, "Try it"),
    h(
      "label",
      null,
      "model ",
      h(
        "select",
        {
          id: "try-model",
          value: chosen,
          onChange: (event: Event) => setModel((event.currentTarget as HTMLSelectElement).value),
        },
        ...props.models.map((name) => h("option", { value: name }, name)),
      ),
    ),
    ...(metadata?.inputs ?? []).map((input) =>
      h(
        "fieldset",
        { "data-input": input.name },
        h("legend", null, `${input.name} ${input.datatype} [${input.shape.join(", ")}]`),
        h("input", {
          class: "shape",
          value: fields[input.name]?.shape ?? "",
          onInput: (event: Event) =>
            setField(input.name, { shape: (event.currentTarget as HTMLInputElement).value }),
        }),
        h("textarea", {
          class: "values",
          rows: 2,
          value: fields[input.name]?.values ?? "",
          onInput: (event: Event) =>
            setField(input.name, { values: (event.currentTarget as HTMLTextAreaElement).value }),
        }),
      ),
    ),
    h("button", { type: "button", id: "try-run", disabled: !metadata, onClick: run }, "Infer"),
    h("p", { id: "try-status" }, status),
    result ? h(Outputs, { result }) : null,
  );
}

function Outputs(props: { result: InferResult }) {
  return h(
    "div",
    { id: "try-result" },
    table(
      ["output", "datatype", "shape", "values"],
      props.result.outputs.map((output) =>
        h(
          "tr",
          { "data-output": output.name },
          h("td", null, output.name),
          h("td", null, output.datatype),
          h("td", null, `[${output.shape.join(", ")}]`),
          h("td", { class: "values" }, decodeOutput(output.datatype, output.shape, output.bytes).join(", ")),
        ),
      ),
    ),
    h(TimingBars, { timing: props.result.timing, elapsedMs: props.result.elapsedMs }),
  );
}
