import type { PendingRequest } from "./pending-request.ts";

/**
 * preserve_ordering: answers leave in arrival order. A request's answer
 * (response or error) is held until every request that arrived before it
 * has its own.
 */
export class ResponseOrder {
  private readonly line: PendingRequest[] = [];
  private readonly ready = new Map<PendingRequest, () => void>();

  track(pending: PendingRequest): void {
    this.line.push(pending);
  }

  settle(pending: PendingRequest, deliver: () => void): void {
    this.ready.set(pending, deliver);
    while (this.line.length > 0) {
      const head = this.line[0] as PendingRequest;
      const action = this.ready.get(head);
      if (!action) return;
      this.line.shift();
      this.ready.delete(head);
      action();
    }
  }
}
