import type { SequenceControl } from "../../core/request.ts";
import type { Tensor } from "../../core/tensor.ts";
import type { PendingRequest } from "../pending-request.ts";

/** One live sequence: where it runs, what waits, and the state it carries between requests. */
export class Sequence {
  /** Instance and slot while it holds one; undefined while it waits in the backlog. */
  instance: number | undefined;
  slot: number | undefined;
  readonly queue: PendingRequest[] = [];
  running = false;
  /** The request being executed, for aborting at the exit timeout. */
  readonly runningRequests = new Set<PendingRequest>();
  /** Set when a request of it was cancelled: the sequence ends once its running request finishes. */
  cancelled = false;
  /** Latest state per state input name (one batch row). */
  readonly state = new Map<string, Tensor>();
  idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly key: string,
    readonly id: SequenceControl["id"],
  ) {}

  /** The request that would run next, when the sequence is free to run one. */
  next(): PendingRequest | undefined {
    return this.running ? undefined : this.queue[0];
  }

  describe(): string {
    return typeof this.id === "string" ? `'${this.id}'` : String(this.id);
  }
}

export function sequenceKey(id: SequenceControl["id"]): string {
  return typeof id === "string" ? `s:${id}` : `n:${id}`;
}
