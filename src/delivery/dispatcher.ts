import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventsService } from '../events/events.service';
import type { Webhook } from '../webhooks/webhook.entity';
import { WebhooksService } from '../webhooks/webhooks.service';
import { AttemptStore } from './attempt-store';
import { AttemptOutcome, ClaimedAttempt, SendResult } from './attempt.types';
import { nextAttemptDelayMs } from './backoff';
import { DeliveryObserver } from './delivery-observer';
import { buildEventBody } from './event-body';
import { ResultWriter } from './result-writer';
import { maskRecordedHeaders } from './recorded-headers';
import { signDelivery } from './signature';
import { WaitingRoom } from './waiting-room';
import { WebhookSender } from './webhook-sender';

export interface EventBody {
  type: string;
  payloadText: string;
  createdAt: Date;
}

/** An attempt with everything needed to send it. */
export interface PreparedAttempt {
  attempt: ClaimedAttempt;
  webhook: Webhook;
  event: EventBody;
  /** The canonical body, when already built (shared by one event's attempts). */
  body?: string;
}

const CLAIM_BATCH = 200;
/** Results waiting to be written beyond which no more attempts are claimed. */
const MAX_WRITE_BACKLOG = 2000;

/**
 * Runs attempts within the in-flight limits (global and per webhook), records
 * each outcome and schedules retries. Claims due attempts from the queue
 * whenever it has room. A slow endpoint only ever holds its own per-endpoint
 * slots, so it cannot delay deliveries to healthy ones.
 */
@Injectable()
export class Dispatcher {
  private readonly logger = new Logger('Delivery');
  private inFlight = 0;
  private readonly perWebhook = new Map<string, number>();
  /** Attempts whose HTTP request is under way, with a promise that settles when it is over. */
  private readonly running = new Map<string, Promise<void>>();
  private readonly maxInFlight: number;
  private readonly maxPerWebhook: number;
  private readonly leaseMs: number;
  private readonly schedule: number[];
  private accepting: boolean;
  private claiming: Promise<number> | null = null;
  private wakeQueued = false;
  private wakeAfterClaim = false;
  private lastClaimFull = false;
  /** The last claim took all it could: there is a backlog, and claims prefetch into the waiting room. */
  private backlogged = false;
  private readonly returnedAtShutdown = new Set<string>();
  /** Claimed attempts whose webhook had no free slot when their claim came back (see WaitingRoom). */
  private readonly waiting: WaitingRoom<PreparedAttempt>;

  constructor(
    private readonly config: AppConfig,
    private readonly store: AttemptStore,
    private readonly writer: ResultWriter,
    private readonly sender: WebhookSender,
    private readonly webhooks: WebhooksService,
    private readonly events: EventsService,
    private readonly observer: DeliveryObserver,
  ) {
    this.maxInFlight = config.get('WEBHOOK_MAX_IN_FLIGHT');
    this.maxPerWebhook = config.get('WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT');
    this.leaseMs = config.get('WEBHOOK_LEASE_MS');
    this.schedule = config.get('WEBHOOK_RETRY_SCHEDULE');
    this.accepting = config.get('WEBHOOK_WORKER');
    this.waiting = new WaitingRoom(this.maxInFlight, this.leaseMs / 2);
  }

  get isWorker(): boolean {
    return this.accepting;
  }

  get lease(): number {
    return this.leaseMs;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Takes one slot for the webhook if both limits allow it. */
  reserve(webhookId: string): boolean {
    // a new attempt does not overtake claimed ones waiting for this webhook's next slot
    if (this.waiting.has(webhookId)) {
      this.lastClaimFull = true;
      return false;
    }
    return this.takeSlot(webhookId);
  }

  private takeSlot(webhookId: string): boolean {
    if (!this.accepting) return false;
    const current = this.perWebhook.get(webhookId) ?? 0;
    if (this.inFlight >= this.maxInFlight || current >= this.maxPerWebhook) {
      // The attempt stays (or goes back) in the queue: claim it when a slot frees up, not at the next sweep.
      this.lastClaimFull = true;
      return false;
    }
    this.perWebhook.set(webhookId, current + 1);
    this.inFlight++;
    return true;
  }

  unreserve(webhookId: string): void {
    const current = this.perWebhook.get(webhookId) ?? 0;
    if (current <= 1) this.perWebhook.delete(webhookId);
    else this.perWebhook.set(webhookId, current - 1);
    this.inFlight--;
  }

  /** Sends reserved attempts (does not wait for them). */
  start(prepared: PreparedAttempt[]): void {
    for (const p of prepared) void this.run(p, true);
  }

  /**
   * Sends one attempt now, outside the limits' admission (the test route and
   * redeliver: an operator is waiting), and resolves with the recorded outcome.
   */
  async runNow(p: PreparedAttempt): Promise<AttemptOutcome | null> {
    this.inFlight++;
    this.perWebhook.set(p.webhook.id, (this.perWebhook.get(p.webhook.id) ?? 0) + 1);
    return this.run(p, true);
  }

  /**
   * Sends, then frees the slot at once (the endpoint is done with it), then
   * records the outcome: the slot is not held while the result waits for its
   * batch to commit.
   */
  private async run(p: PreparedAttempt, reserved: boolean): Promise<AttemptOutcome | null> {
    let finish!: () => void;
    this.running.set(p.attempt.id, new Promise<void>((r) => (finish = r)));
    let result: SendResult;
    try {
      result = await this.send(p);
      if (result.statusCode === 410) {
        // disabled before this slot frees up, so no further attempt goes to an endpoint that is gone
        await this.webhooks.disable(p.webhook.id, 'the endpoint answered 410 Gone').catch(() => undefined);
      }
    } finally {
      this.running.delete(p.attempt.id);
      if (reserved) this.unreserve(p.webhook.id);
      finish();
      this.startWaiting(p.webhook.id);
      this.wake();
    }
    if (this.returnedAtShutdown.has(p.attempt.id)) return null; // cut short by shutdown: back to the queue
    const outcome: AttemptOutcome = { attempt: p.attempt, result, nextRetryAt: this.nextRetry(p, result) };
    this.observer.attemptFinished(p, outcome);
    await this.writer.write(outcome).catch(() => undefined); // on failure the lease brings it back
    return outcome;
  }

  private async send(p: PreparedAttempt): Promise<SendResult> {
    const { attempt, webhook, event } = p;
    const body = p.body ?? buildEventBody(attempt.eventId, event.type, event.createdAt, event.payloadText);
    const { secret, previousSecret } = this.webhooks.signingSecrets(webhook, new Date());
    const headers = {
      ...webhook.headers,
      ...signDelivery({
        secret,
        previousSecret,
        eventId: attempt.eventId,
        eventType: attempt.eventType,
        deliveryId: attempt.id,
        attempt: attempt.attempt,
        timestampSeconds: Math.floor(Date.now() / 1000),
        body,
      }),
    };
    const result = await this.sender.send({ url: webhook.url, body, headers, timeoutMs: webhook.timeoutMs });
    return { ...result, requestHeaders: maskRecordedHeaders(headers) };
  }

  /** Retries follow the schedule for event deliveries only; 410 never retries. */
  private nextRetry(p: PreparedAttempt, result: SendResult): Date | null {
    if (result.success || result.statusCode === 410) return null;
    if (p.attempt.trigger !== 'event' || !p.webhook.retryEnabled) return null;
    const delay = nextAttemptDelayMs(this.schedule, p.attempt.attempt, result.retryAfterMs);
    return delay === null ? null : new Date(result.finishedAt.getTime() + delay);
  }

  /** Starts the waiting attempts that have a slot now, those of `first` (whose slot just freed up) first. */
  private startWaiting(first?: string): void {
    if (this.waiting.size === 0) return;
    const expired: PreparedAttempt[] = [];
    for (const webhookId of this.waiting.webhooks(first)) {
      if (this.inFlight >= this.maxInFlight) break;
      while (this.takeSlot(webhookId)) {
        const p = this.waiting.take(webhookId, expired);
        if (!p) {
          this.unreserve(webhookId);
          break;
        }
        void this.run(p, true);
      }
    }
    void this.handBack(expired);
  }

  /** Forgets the attempts waiting for a slot of this webhook (disabled or deleted) and returns their ids. */
  dropWaiting(webhookId: string): string[] {
    return this.waiting.takeWebhook(webhookId).map((p) => p.attempt.id);
  }

  /** Returns attempts this instance will not send after all to the queue (the lease would, later). */
  private handBack(attempts: PreparedAttempt[]): Promise<void> {
    if (attempts.length === 0) return Promise.resolve();
    return this.store
      .release(attempts.map((p) => p.attempt.id))
      .catch((err: Error) => this.logger.warn(`Could not return attempts to the queue (their lease will): ${err.message}`));
  }

  /**
   * Attempts went into the queue unclaimed (no free slot as they were
   * created, or a claim that ran before they were committed missed them):
   * claim as soon as there is room, rather than at the next sweep.
   */
  notifyQueued(): void {
    if (!this.accepting) return;
    this.lastClaimFull = true;
    this.wake();
  }

  /** After a slot frees up, claim more if the last claim suggested a backlog. */
  private wake(): void {
    if (!this.accepting || !this.lastClaimFull || this.wakeQueued) return;
    if (this.claiming) {
      // a claim is running and may not have seen this free slot: claim again after it
      this.wakeAfterClaim = true;
      return;
    }
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      void this.claimAndRun().catch((err: Error) => this.logger.warn(`Claim failed: ${err.message}`));
    });
  }

  /** Claims as many due attempts as there is room for and starts them; returns how many. */
  claimAndRun(): Promise<number> {
    if (!this.claiming) {
      this.claiming = this.claimOnce().finally(() => {
        this.claiming = null;
        if (this.wakeAfterClaim) {
          // a slot freed up or attempts were queued while this claim ran, which may have missed them
          // (and then judged the queue empty): claim once more
          this.wakeAfterClaim = false;
          this.lastClaimFull = true;
          this.wake();
        }
      });
    }
    return this.claiming;
  }

  private async claimOnce(): Promise<number> {
    void this.handBack(this.waiting.takeExpired());
    this.startWaiting();
    // Behind a backlog, claims fill the free slots and, beyond them, the waiting room (up to as many
    // again): a slot that frees up takes its next attempt from there at once, without a round trip
    // to the queue. Without one, they take just the free slots, and new attempts are claimed as
    // they are created.
    const depth = this.backlogged ? 2 : 1;
    const room = Math.min(this.maxInFlight * depth - this.inFlight - this.waiting.size, CLAIM_BATCH);
    if (!this.accepting || room <= 0) return 0;
    // behind a backlog, refill the waiting room once it is half empty, in one claim, rather than a
    // claim (four round trips) for every slot that frees up
    if (this.backlogged && this.waiting.size > 0 && room < this.maxInFlight / 2) return 0;
    if (this.writer.backlog > MAX_WRITE_BACKLOG) {
      // results are not being recorded as fast as attempts finish: let the writes catch up, then claim
      this.lastClaimFull = true;
      void this.writer.drain().then(() => this.wake());
      return 0;
    }
    const busy = new Map(this.perWebhook);
    for (const [id, n] of this.waiting.counts()) busy.set(id, (busy.get(id) ?? 0) + n);
    const perWebhook = this.maxPerWebhook * depth; // its slots, and as many waiting behind a backlog
    const claimed = await this.store.claimDue(room, this.leaseMs, busy, perWebhook);
    // a backlog: the claim took all it could, overall or for some webhook
    const taken = new Map(busy);
    for (const c of claimed) taken.set(c.webhookId, (taken.get(c.webhookId) ?? 0) + 1);
    this.backlogged = claimed.length >= room || [...taken.values()].some((n) => n >= perWebhook);
    // More may be due when this claim found any (it takes at most room, and at most each webhook's
    // free slots), or when webhooks were at their limit as it ran (judged by the snapshot the query
    // used: their slots may have freed up since). Then a freed slot claims again at once rather
    // than at the next sweep; a claim that finds nothing and skipped no one stops that.
    this.lastClaimFull = claimed.length > 0 || [...busy.values()].some((n) => n >= perWebhook);
    if (claimed.length === 0) return 0;
    const prepared = await this.prepare(claimed);
    const overflow: string[] = [];
    const toStart: PreparedAttempt[] = [];
    for (const p of prepared.ready) {
      // no free slot (taken by a fan-out while the claim ran, or claimed ahead): wait for the next one here
      if (this.reserve(p.webhook.id)) toStart.push(p);
      else if (!this.accepting || !this.waiting.park(p.webhook.id, p)) overflow.push(p.attempt.id);
    }
    await this.store.release([...overflow, ...prepared.orphans]);
    this.start(toStart);
    return claimed.length;
  }

  /** Loads the webhooks and event bodies of claimed attempts (two queries). */
  async prepare(claimed: ClaimedAttempt[]): Promise<{ ready: PreparedAttempt[]; orphans: string[] }> {
    const webhookIds = [...new Set(claimed.map((c) => c.webhookId))];
    const eventIds = [...new Set(claimed.map((c) => c.eventId))];
    const [hooks, bodies] = await Promise.all([this.webhooks.findByIds(webhookIds), this.events.bodiesFor(eventIds)]);
    const byId = new Map(hooks.map((h) => [h.id, h]));
    const ready: PreparedAttempt[] = [];
    const orphans: string[] = [];
    const disabledHooks = new Map<string, string | null>();
    const disabledAttempts: string[] = [];
    const built = new Map<string, string>();
    for (const attempt of claimed) {
      const webhook = byId.get(attempt.webhookId);
      const event = bodies.get(attempt.eventId);
      if (!webhook || !event) {
        orphans.push(attempt.id);
      } else if (!webhook.enabled && attempt.trigger === 'event') {
        disabledHooks.set(webhook.id, webhook.disabledReason);
        disabledAttempts.push(attempt.id);
      } else {
        // one body per event, shared by its attempts
        let body = built.get(attempt.eventId);
        if (body === undefined) built.set(attempt.eventId, (body = buildEventBody(attempt.eventId, event.type, event.createdAt, event.payloadText)));
        ready.push({ attempt, webhook, event, body });
      }
    }
    if (disabledAttempts.length) {
      // back to pending, then cancelled with the rest of that webhook's queue
      await this.store.release(disabledAttempts);
      for (const [id, reason] of disabledHooks) await this.store.cancelPending(id, reason);
    }
    return { ready, orphans };
  }

  /**
   * Shutdown: stop claiming, give in-flight attempts up to
   * WEBHOOK_SHUTDOWN_GRACE_MS, then abort the rest and return them to the
   * queue; finally commit every recorded outcome.
   */
  async shutdown(): Promise<void> {
    this.accepting = false;
    await this.claiming?.catch(() => undefined);
    await this.handBack(this.waiting.takeAll());
    const grace = this.config.get('WEBHOOK_SHUTDOWN_GRACE_MS');
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all([...this.running.values()]);
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), grace)))]);
    clearTimeout(timer);
    if (timedOut) {
      const left = [...this.running.keys()];
      this.logger.warn(`Returning ${left.length} unfinished attempts to the queue`);
      left.forEach((id) => this.returnedAtShutdown.add(id));
      this.sender.abortInFlight();
      await Promise.all([...this.running.values()]);
      await this.store.release(left).catch((err: Error) => this.logger.warn(`Could not return attempts to the queue (their lease will): ${err.message}`));
    }
    await this.writer.drain();
  }
}
