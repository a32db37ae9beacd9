/**
 * Attempts this instance holds (leased in the queue) waiting for a free slot
 * of their webhook.
 *
 * They come from the fan-out, which creates attempts already leased when it
 * has a place for them here (no claim needed), and from claims behind a
 * backlog, which fetch well ahead of the free slots. A slot that frees up
 * starts its webhook's next attempt from here at once, with no round trip to
 * the queue. An attempt that waited longer than `maxWaitMs` goes back to the
 * queue instead (far below the lease, so no other instance takes it for the
 * attempt of a dead one). How many attempts one webhook may hold is the
 * caller's `share` (see `EndpointPace`).
 */
export class WaitingRoom<T> {
  private readonly byWebhook = new Map<string, Line<T>>();
  private count = 0;
  /** Places promised (hold) to attempts being created, per webhook; they count against the capacity. */
  private readonly holds = new Map<string, number>();
  private held = 0;

  constructor(
    /** Most attempts held at once; past that, `park` refuses. */
    private readonly capacity: number,
    private readonly maxWaitMs: number,
  ) {}

  get size(): number {
    return this.count + this.held;
  }

  /** Attempts of one webhook waiting or promised a place. */
  sizeOf(webhookId: string): number {
    return (this.byWebhook.get(webhookId)?.length ?? 0) + (this.holds.get(webhookId) ?? 0);
  }

  /**
   * Promises a place to an attempt still being created (park it, or unhold,
   * later), if the room and the webhook's share have one.
   */
  hold(webhookId: string, share: number): boolean {
    if (this.count + this.held >= this.capacity || this.sizeOf(webhookId) >= share) return false;
    this.holds.set(webhookId, (this.holds.get(webhookId) ?? 0) + 1);
    this.held++;
    return true;
  }

  unhold(webhookId: string): void {
    const n = this.holds.get(webhookId) ?? 0;
    if (n <= 0) return;
    if (n === 1) this.holds.delete(webhookId);
    else this.holds.set(webhookId, n - 1);
    this.held--;
  }

  has(webhookId: string): boolean {
    return this.byWebhook.has(webhookId);
  }

  /** How many attempts wait, per webhook. */
  counts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, line] of this.byWebhook) out.set(id, line.length);
    for (const [id, n] of this.holds) out.set(id, (out.get(id) ?? 0) + n);
    return out;
  }

  /** false when full (the caller hands the attempt back to the queue). */
  park(webhookId: string, item: T, now = Date.now()): boolean {
    if (this.count + this.held >= this.capacity) return false;
    let line = this.byWebhook.get(webhookId);
    if (!line) this.byWebhook.set(webhookId, (line = new Line<T>()));
    line.push(item, now);
    this.count++;
    return true;
  }

  /** Webhooks with attempts waiting (a copy: taking from them may remove them). */
  webhooks(): string[] {
    return [...this.byWebhook.keys()];
  }

  /** The oldest waiting attempt of a webhook that has not waited too long; `expired` collects those that have. */
  take(webhookId: string, expired: T[], now = Date.now()): T | undefined {
    const line = this.byWebhook.get(webhookId);
    if (!line) return undefined;
    let found: T | undefined;
    while (line.length > 0) {
      const since = line.headSince();
      const item = line.shift();
      this.count--;
      if (now - since <= this.maxWaitMs) {
        found = item;
        break;
      }
      expired.push(item);
    }
    if (line.length === 0) this.byWebhook.delete(webhookId);
    return found;
  }

  /**
   * Removes the attempts that waited longer than `maxWaitMs` and returns
   * them. Each webhook's line is in the order parked, so only its head needs
   * looking at.
   */
  takeExpired(now = Date.now()): T[] {
    const out: T[] = [];
    for (const [webhookId, line] of this.byWebhook) {
      while (line.length > 0 && now - line.headSince() > this.maxWaitMs) {
        out.push(line.shift());
        this.count--;
      }
      if (line.length === 0) this.byWebhook.delete(webhookId);
    }
    return out;
  }

  /** Removes and returns the attempts waiting for one webhook. */
  takeWebhook(webhookId: string): T[] {
    const line = this.byWebhook.get(webhookId);
    if (!line) return [];
    this.byWebhook.delete(webhookId);
    this.count -= line.length;
    return line.drain();
  }

  /** Empties the room and returns everything in it. */
  takeAll(): T[] {
    const out: T[] = [];
    for (const line of this.byWebhook.values()) out.push(...line.drain());
    this.byWebhook.clear();
    this.count = 0;
    return out;
  }
}

/** A first-in first-out line with O(1) push and shift (an array with a moving head, compacted now and then). */
class Line<T> {
  private items: T[] = [];
  private times: number[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T, since: number): void {
    this.items.push(item);
    this.times.push(since);
  }

  headSince(): number {
    return this.times[this.head];
  }

  shift(): T {
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.times = [];
    this.head = 0;
    return out;
  }
}
