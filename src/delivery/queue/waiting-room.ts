/**
 * Claimed attempts waiting for a free slot of their webhook on this instance.
 *
 * Claims take a little more than the free slots (prefetch), and a fan-out
 * running meanwhile may take some of the slots a claim counted on. The
 * claimed rows without a slot wait here (their lease keeps them ours) and
 * start the moment a slot of their webhook frees up, with no round trip to
 * the queue, instead of being handed back and claimed again (that churn was
 * a large share of all queue writes under load). An attempt that waited
 * longer than `maxWaitMs` goes back to the queue instead.
 */
export class WaitingRoom<T> {
  private readonly byWebhook = new Map<string, Array<{ item: T; since: number }>>();
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

  /**
   * Promises a place to an attempt still being created (park it, or unhold,
   * later), if the room and the webhook's share (`perWebhook`) have one.
   */
  hold(webhookId: string, perWebhook: number): boolean {
    const mine = (this.byWebhook.get(webhookId)?.length ?? 0) + (this.holds.get(webhookId) ?? 0);
    if (this.count + this.held >= this.capacity || mine >= perWebhook) return false;
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
    const out = new Map([...this.byWebhook].map(([id, list]) => [id, list.length]));
    for (const [id, n] of this.holds) out.set(id, (out.get(id) ?? 0) + n);
    return out;
  }

  /** false when full (the caller hands the attempt back to the queue). */
  park(webhookId: string, item: T, now = Date.now()): boolean {
    if (this.count + this.held >= this.capacity) return false;
    let list = this.byWebhook.get(webhookId);
    if (!list) this.byWebhook.set(webhookId, (list = []));
    list.push({ item, since: now });
    this.count++;
    return true;
  }

  /** Webhooks with attempts waiting, `first` first when it has some. */
  webhooks(first?: string): string[] {
    const ids = [...this.byWebhook.keys()];
    if (first === undefined || !this.byWebhook.has(first)) return ids;
    return [first, ...ids.filter((id) => id !== first)];
  }

  /** The oldest waiting attempt of a webhook that has not waited too long; `expired` collects those that have. */
  take(webhookId: string, expired: T[], now = Date.now()): T | undefined {
    const list = this.byWebhook.get(webhookId);
    while (list && list.length > 0) {
      const { item, since } = list.shift()!;
      this.count--;
      if (list.length === 0) this.byWebhook.delete(webhookId);
      if (now - since <= this.maxWaitMs) return item;
      expired.push(item);
    }
    return undefined;
  }

  /** Removes the attempts that waited longer than `maxWaitMs` and returns them. */
  takeExpired(now = Date.now()): T[] {
    const out: T[] = [];
    for (const [webhookId, list] of this.byWebhook) {
      const kept = list.filter((w) => now - w.since <= this.maxWaitMs);
      for (const w of list) if (now - w.since > this.maxWaitMs) out.push(w.item);
      this.count -= list.length - kept.length;
      if (kept.length) this.byWebhook.set(webhookId, kept);
      else this.byWebhook.delete(webhookId);
    }
    return out;
  }

  /** Removes and returns the attempts waiting for one webhook. */
  takeWebhook(webhookId: string): T[] {
    const list = this.byWebhook.get(webhookId) ?? [];
    this.byWebhook.delete(webhookId);
    this.count -= list.length;
    return list.map((w) => w.item);
  }

  /** Empties the room and returns everything in it. */
  takeAll(): T[] {
    const out: T[] = [];
    for (const list of this.byWebhook.values()) for (const w of list) out.push(w.item);
    this.byWebhook.clear();
    this.count = 0;
    return out;
  }
}
