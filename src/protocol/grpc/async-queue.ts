/**
 * A queue that one side pushes to and the other drains with `for await`:
 * the output side of a bidirectional stream, where answers are ready in
 * any order and the stream ends after `close()` or at the first `fail()`.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private failWaiting: ((error: unknown) => void) | undefined;
  private closed = false;
  private failure: { error: unknown } | undefined;

  push(item: T): void {
    if (this.closed || this.failure) return;
    const wake = this.waiting;
    if (wake) {
      this.clearWaiters();
      wake({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  close(): void {
    this.closed = true;
    if (this.items.length === 0) this.waiting?.({ value: undefined, done: true });
  }

  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.failWaiting?.(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.failure) return Promise.reject(this.failure.error);
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.failWaiting = reject;
        });
      },
    };
  }

  private clearWaiters(): void {
    this.waiting = undefined;
    this.failWaiting = undefined;
  }
}
