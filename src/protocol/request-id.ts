import { invalidArgument } from "../core/errors.ts";

/** A request id is a label echoed in the answer and logs, not a payload: 64 KiB is plenty. */
export const MAX_REQUEST_ID_BYTES = 64 * 1024;

/** Refuses an over-long request `id` (its UTF-8 byte length), naming the field and the limit. */
export function checkRequestIdLength(byteLength: number): void {
  if (byteLength > MAX_REQUEST_ID_BYTES) {
    throw invalidArgument(
      "protocol",
      `request 'id' is ${byteLength} bytes, over the limit of ${MAX_REQUEST_ID_BYTES} bytes`,
    );
  }
}
