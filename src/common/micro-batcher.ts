/**
 * Collects items and hands them to `handle` in batches: the first item of a
 * batch waits one turn of the event loop (setImmediate), or `lingerMs` when
 * set, for company; at most `maxBatch` go together (a full batch goes at
 * once), and at most `concurrency` batches are handled at a time (one by
 * default). Used where one round trip to the database can serve many items
 * (event inserts, fan-out, result writes).
 */
export class MicroBatcher<T> {
  private queue: T[] = [];
  private readonly running = new Set<Promise<void>>();
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly waiters: Array<{ below: number; resolve: () => void }> = [];

  constructor(
    private readonly maxBatch: number,
    /** Must not throw: errors are the handler's to report. */
    private readonly handle: (batch: T[]) => Promise<void>,
    private readonly concurrency = 1,
    private readonly lingerMs = 0,
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

  /** Resolves once fewer than `n` items wait (those being handled do not count). */
  sizeBelow(n: number): Promise<void> {
    if (this.queue.length < n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ below: n, resolve }));
  }

  /** Drops what is queued (returned) and waits for the batches in progress; later pushes are ignored. */
  async close(): Promise<T[]> {
    this.closed = true;
    const dropped = this.queue;
    this.queue = [];
    this.wakeWaiters();
    await Promise.all(this.running);
    return dropped;
  }

  private schedule(): void {
    if (this.running.size >= this.concurrency) return;
    if (this.queue.length >= this.maxBatch && this.lingerMs > 0 && this.timer) {
      // a full batch does not wait out the linger
      clearTimeout(this.timer);
      this.timer = null;
      this.scheduled = false;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      this.timer = null;
      void this.flush();
    };
    if (this.lingerMs > 0 && this.queue.length < this.maxBatch) this.timer = setTimeout(go, this.lingerMs).unref();
    else setImmediate(go);
  }

  private async flush(): Promise<void> {
    if (this.running.size >= this.concurrency || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.wakeWaiters();
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

  private wakeWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.queue.length < this.waiters[i].below) this.waiters.splice(i, 1)[0].resolve();
    }
  }
}
