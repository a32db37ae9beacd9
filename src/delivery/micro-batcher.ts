/**
 * Collects items and hands them to `handle` in batches: the first item of a
 * batch waits one turn of the event loop (setImmediate) for company, at most
 * `maxBatch` go together, and at most `concurrency` batches are handled at a
 * time (one by default). Used where one round trip to the database can serve
 * many items (fan-out, result writes).
 */
export class MicroBatcher<T> {
  private queue: T[] = [];
  private readonly running = new Set<Promise<void>>();
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly maxBatch: number,
    /** Must not throw: errors are the handler's to report. */
    private readonly handle: (batch: T[]) => Promise<void>,
    private readonly concurrency = 1,
  ) {}

  /** false when closed (the item is not taken). */
  push(item: T): boolean {
    if (this.closed) return false;
    this.queue.push(item);
    this.schedule();
    return true;
  }

  get size(): number {
    return this.queue.length;
  }

  /** Resolves when every item pushed so far has been handled. */
  async drain(): Promise<void> {
    while (this.running.size > 0 || this.queue.length > 0) {
      if (this.running.size > 0) await Promise.race(this.running);
      else await this.flush();
    }
  }

  /** Drops what is queued (returned) and waits for the batches in progress; later pushes are ignored. */
  async close(): Promise<T[]> {
    this.closed = true;
    const dropped = this.queue;
    this.queue = [];
    await Promise.all(this.running);
    return dropped;
  }

  private schedule(): void {
    if (this.scheduled || this.running.size >= this.concurrency) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running.size >= this.concurrency || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    const run = this.handle(batch);
    this.running.add(run);
    if (this.queue.length > 0) this.schedule(); // room for another batch alongside
    try {
      await run;
    } finally {
      this.running.delete(run);
      if (this.queue.length > 0) this.schedule();
    }
  }
}
