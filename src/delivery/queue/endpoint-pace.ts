/**
 * How fast each endpoint answers, as this instance has seen it, and from
 * that how many attempts it may hold waiting for that endpoint's slots.
 *
 * Holding attempts in memory (already leased) saves the queue a claim each,
 * and lets a freed slot start its next attempt without a round trip; but an
 * attempt held for a slow endpoint only ties up memory and its lease. So a
 * webhook's share of the waiting room is what its slots get through in
 * `horizonMs` at its recent pace: an endpoint answering in 2 ms with 8 slots
 * may hold thousands, one answering in 2 s a handful. Never below `floor`
 * (a webhook not heard from yet, or a slow one, still has a few ready) and
 * never above `ceiling` (one busy endpoint does not take all the room).
 */
export class EndpointPace {
  /** Exponentially weighted mean of the request durations, ms, per webhook. */
  private readonly meanMs = new Map<string, number>();

  constructor(
    private readonly slotsPerWebhook: number,
    private readonly horizonMs: number,
    private readonly floor: number,
    private readonly ceiling: number,
    /** Weight of the newest duration. */
    private readonly alpha = 0.1,
  ) {}

  /** Records how long one request to the webhook took (failures too: a timeout is slow). */
  observe(webhookId: string, durationMs: number): void {
    const d = Math.max(0, durationMs);
    const mean = this.meanMs.get(webhookId);
    this.meanMs.set(webhookId, mean === undefined ? d : mean + this.alpha * (d - mean));
  }

  /** How many attempts the webhook may hold waiting for a slot. */
  share(webhookId: string): number {
    const mean = this.meanMs.get(webhookId);
    if (mean === undefined) return this.floor;
    const perSlot = this.horizonMs / Math.max(mean, 1);
    return Math.max(this.floor, Math.min(this.ceiling, Math.floor(this.slotsPerWebhook * perSlot)));
  }

  /** Forgets a webhook (disabled or deleted). */
  forget(webhookId: string): void {
    this.meanMs.delete(webhookId);
  }
}
