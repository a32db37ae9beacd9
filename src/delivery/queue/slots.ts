/**
 * The in-flight limits of this instance: at most `max` attempts at once, and
 * at most `perWebhook` to any one webhook, so a slow endpoint only ever holds
 * its own slots and cannot delay deliveries to healthy ones.
 */
export class Slots {
  private total = 0;
  private readonly byWebhook = new Map<string, number>();

  constructor(
    readonly max: number,
    readonly perWebhook: number,
  ) {}

  get inFlight(): number {
    return this.total;
  }

  get free(): number {
    return this.max - this.total;
  }

  /** How many more slots the webhook could take now (both limits). */
  freeFor(webhookId: string): number {
    return Math.max(0, Math.min(this.max - this.total, this.perWebhook - (this.byWebhook.get(webhookId) ?? 0)));
  }

  /** Takes one slot for the webhook if both limits allow it. */
  take(webhookId: string): boolean {
    const current = this.byWebhook.get(webhookId) ?? 0;
    if (this.total >= this.max || current >= this.perWebhook) return false;
    this.byWebhook.set(webhookId, current + 1);
    this.total++;
    return true;
  }

  /** Takes a slot past the limits (an operator's test or redelivery, who is waiting for it). */
  force(webhookId: string): void {
    this.byWebhook.set(webhookId, (this.byWebhook.get(webhookId) ?? 0) + 1);
    this.total++;
  }

  release(webhookId: string): void {
    const current = this.byWebhook.get(webhookId) ?? 0;
    if (current <= 1) this.byWebhook.delete(webhookId);
    else this.byWebhook.set(webhookId, current - 1);
    this.total--;
  }

  /** Slots held per webhook (a copy). */
  snapshot(): Map<string, number> {
    return new Map(this.byWebhook);
  }
}
