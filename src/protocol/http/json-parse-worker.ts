/**
 * The off-loop JSON parser's worker: parses an infer body and turns each
 * input's flat numeric `data` into its typed array (the same one-pass
 * conversion the server does), so what comes back is mostly transferred
 * buffers rather than millions of numbers to copy.
 */
import { isDataType } from "../../core/datatype.ts";
import { flatNumbers } from "./json-data.ts";

declare const self: Worker;
const utf8 = new TextDecoder();

self.onmessage = (event: MessageEvent<{ id: number; buffer: ArrayBuffer }>) => {
  const { id, buffer } = event.data;
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(buffer));
  } catch (error) {
    self.postMessage({ id, error: (error as Error).message });
    return;
  }
  const transfer: ArrayBuffer[] = [];
  const inputs = (value as { inputs?: unknown } | null)?.inputs;
  if (Array.isArray(inputs)) {
    for (const input of inputs) {
      const { datatype, data } = (input ?? {}) as { datatype?: unknown; data?: unknown };
      if (!isDataType(datatype) || !Array.isArray(data)) continue;
      const typed = flatNumbers(datatype, data);
      // Anything else stays as parsed: the server's checks then give their exact error.
      if (typed && ArrayBuffer.isView(typed)) {
        (input as { data: unknown }).data = typed;
        transfer.push(typed.buffer as ArrayBuffer);
      }
    }
  }
  self.postMessage({ id, value }, transfer);
};
