import type { StageClock } from "../core/stage-clock.ts";

/**
 * `Server-Timing` entries (ms) for the stages a request went through: the
 * HTTP infer answer and the Connect / gRPC-web ModelInfer answer carry it,
 * so a browser (the console) can show where the time went.
 */
export function serverTiming(clock: StageClock): string {
  const us = clock.durationsUs();
  const ms = (value: number) => (value / 1000).toFixed(3);
  return `queue;dur=${ms(us.queue)}, compute_input;dur=${ms(us.computeInput)}, compute_infer;dur=${ms(us.computeInfer)}, compute_output;dur=${ms(us.computeOutput)}`;
}
