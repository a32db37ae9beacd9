import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { EventsService } from '../../events/events.service';
import { WEBHOOK_CHANGED, WEBHOOK_DELETED, WEBHOOK_DISABLED } from '../../webhooks/webhook-bus';
import { WebhooksService } from '../../webhooks/webhooks.service';
import { Dispatcher } from './dispatcher';
import { PacedClaim, PacedWebhook, PacingStore } from './pacing-store';

/**
 * How often the list of paced webhooks is re-read, and the lane looks for due
 * work it was not woken for (a change made on another instance takes effect
 * within this).
 */
const REFRESH_MS = 1000;
/** While a webhook's claims are held back by the slots of this instance, how soon to look again. */
const ROOM_POLL_MS = 50;
/** FIFO held back by another instance's attempt in flight (or an event still being fanned out): first look again after this, doubling up to the cap. */
const FIFO_POLL_MIN_MS = 20;
const FIFO_POLL_MAX_MS = 1000;

/**
 * The paced lane: claims the attempts of webhooks with a rate limit or FIFO
 * ordering (the claim loop leaves them alone), one webhook at a time under
 * its pacing lock (`PacingStore`), and starts them through the dispatcher's
 * slots. It runs when woken (attempts queued, or one of its attempts
 * recorded), when the rate limit lets the next delivery go, and otherwise
 * every second (retries coming due, other instances' work).
 */
@Injectable()
export class PacedLane implements OnApplicationBootstrap {
  private readonly logger = new Logger('PacedLane');
  private paced = new Map<string, PacedWebhook>();
  private refreshedAt = -Infinity;
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private interval: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Per FIFO webhook held back by something this instance does not hear about: the next poll's delay. */
  private readonly fifoBackoff = new Map<string, number>();

  constructor(
    private readonly store: PacingStore,
    private readonly dispatcher: Dispatcher,
    private readonly webhooks: WebhooksService,
    private readonly events: EventsService,
  ) {
    dispatcher.attachLane({ pacedIds: () => [...this.paced.keys()], wake: () => this.wake() });
  }

  onApplicationBootstrap(): void {
    if (!this.dispatcher.isWorker) return;
    this.interval = setInterval(() => this.wake(), REFRESH_MS);
    this.interval.unref();
    this.wake();
  }

  /** No pass starts after this; resolves when the one under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  @OnEvent(WEBHOOK_CHANGED)
  @OnEvent(WEBHOOK_DISABLED)
  @OnEvent(WEBHOOK_DELETED)
  onWebhookChanged(): void {
    this.refreshedAt = -Infinity;
    this.wake();
  }

  /** Runs a pass soon (passes coalesce; one runs at a time). */
  wake(): void {
    if (this.stopped || !this.dispatcher.isWorker) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.runIn(0);
  }

  /** One pass now, or the one under way; resolves when it is over. Never rejects. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    return this.pass();
  }

  private runIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      void this.tick();
    }, ms);
    this.timer.unref();
  }

  private pass(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.again = false;
    this.running = this.claimAll()
      .then(
        (nextInMs) => {
          if (nextInMs < Infinity) this.runIn(nextInMs);
        },
        (err: Error) => this.logger.warn(`Paced claim failed (retrying within a second): ${err.message}`),
      )
      .finally(() => {
        this.running = null;
        if (this.again) this.wake();
      });
    return this.running;
  }

  /** Claims for every paced webhook with due work; returns when the next pass should run (Infinity: when woken). */
  private async claimAll(): Promise<number> {
    await this.refresh();
    if (this.paced.size === 0 || !this.dispatcher.isWorker) return Infinity;
    const due = await this.store.withDueWork([...this.paced.keys()]);
    for (const id of this.fifoBackoff.keys()) if (!due.has(id)) this.fifoBackoff.delete(id);
    if (due.size === 0) return Infinity;
    const hooks = [...due].map((id) => this.paced.get(id)).filter((w): w is PacedWebhook => w !== undefined);
    const unfannedSince = hooks.some((w) => w.fifo) ? await this.events.oldestUnfannedAt() : null;
    let next = Infinity;
    for (const w of hooks) {
      if (this.stopped) break;
      const claim = await this.store.claim(w, this.dispatcher.pacedRoom(w.id), this.dispatcher.lease, unfannedSince);
      if (claim.expiredLeases) this.logger.warn(`${claim.expiredLeases} attempts outlived their lease (an instance died?) and are sent again`);
      await this.dispatcher.startPaced(claim.attempts);
      next = Math.min(next, this.delayAfter(w, claim));
    }
    return next;
  }

  private delayAfter(w: PacedWebhook, claim: PacedClaim): number {
    if (claim.limitedBy !== 'fifo' || claim.attempts.length > 0) this.fifoBackoff.delete(w.id);
    switch (claim.limitedBy) {
      case 'rate':
        return claim.rateWaitMs;
      case 'room':
        return ROOM_POLL_MS;
      case 'fifo': {
        // one sent: its recorded result wakes the lane
        if (claim.attempts.length > 0) return Infinity;
        const wait = this.fifoBackoff.get(w.id) ?? FIFO_POLL_MIN_MS;
        this.fifoBackoff.set(w.id, Math.min(wait * 2, FIFO_POLL_MAX_MS));
        return wait;
      }
      case null:
        return Infinity;
    }
  }

  private async refresh(): Promise<void> {
    if (Date.now() - this.refreshedAt < REFRESH_MS) return;
    const hooks = await this.webhooks.findPaced();
    this.paced = new Map(hooks.map((w) => [w.id, { id: w.id, rateLimit: w.rateLimit, fifo: w.ordering === 'fifo' }]));
    this.refreshedAt = Date.now();
  }
}
