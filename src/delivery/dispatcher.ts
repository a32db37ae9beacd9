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
import { signDelivery } from './signature';
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
  private readonly running = new Map<string, { abort: AbortController; done: Promise<unknown> }>();
  private readonly maxInFlight: number;
  private readonly maxPerWebhook: number;
  private readonly leaseMs: number;
  private readonly schedule: number[];
  private accepting: boolean;
  private claiming: Promise<number> | null = null;
  private wakeQueued = false;
  private wakeAfterClaim = false;
  private lastClaimFull = false;
  private readonly shuttingDownIds = new Set<string>();

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

  private saturatedWebhooks(): string[] {
    const out: string[] = [];
    for (const [id, n] of this.perWebhook) if (n >= this.maxPerWebhook) out.push(id);
    return out;
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

  private async run(p: PreparedAttempt, reserved: boolean): Promise<AttemptOutcome | null> {
    const abort = new AbortController();
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    this.running.set(p.attempt.id, { abort, done });
    try {
      const result = await this.send(p, abort.signal);
      if (this.shuttingDownIds.has(p.attempt.id)) {
        await this.store.release([p.attempt.id]).catch(() => undefined);
        return null;
      }
      const outcome: AttemptOutcome = { attempt: p.attempt, result, nextRetryAt: this.nextRetry(p, result) };
      this.observer.attemptFinished(p, outcome);
      await this.writer.write(outcome).catch(() => undefined); // on failure the lease brings it back
      if (result.statusCode === 410) {
        await this.webhooks.disable(p.webhook.id, 'the endpoint answered 410 Gone').catch(() => undefined);
      }
      return outcome;
    } finally {
      this.running.delete(p.attempt.id);
      if (reserved) this.unreserve(p.webhook.id);
      finish();
      this.wake();
    }
  }

  private async send(p: PreparedAttempt, signal: AbortSignal): Promise<SendResult> {
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
    return this.sender.send({ url: webhook.url, body, headers, timeoutMs: webhook.timeoutMs, signal });
  }

  /** Retries follow the schedule for event deliveries only; 410 never retries. */
  private nextRetry(p: PreparedAttempt, result: SendResult): Date | null {
    if (result.success || result.statusCode === 410) return null;
    if (p.attempt.trigger !== 'event' || !p.webhook.retryEnabled) return null;
    const delay = nextAttemptDelayMs(this.schedule, p.attempt.attempt, result.retryAfterMs);
    return delay === null ? null : new Date(result.finishedAt.getTime() + delay);
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
          this.wakeAfterClaim = false;
          this.wake();
        }
      });
    }
    return this.claiming;
  }

  private async claimOnce(): Promise<number> {
    const room = Math.min(this.maxInFlight - this.inFlight, CLAIM_BATCH);
    if (!this.accepting || room <= 0) return 0;
    const saturated = this.saturatedWebhooks();
    const claimed = await this.store.claimDue(room, this.leaseMs, saturated, this.maxPerWebhook);
    // A backlog may remain when the claim was full, or when it skipped saturated webhooks
    // (their queue is invisible to this claim): either way, claim again as slots free up.
    // Without the second case a busy endpoint's backlog drained only one batch per sweep
    // interval (8 attempts a second with the defaults), however fast the endpoint answered.
    this.lastClaimFull = claimed.length === room || saturated.length > 0;
    if (claimed.length === 0) return 0;
    const prepared = await this.prepare(claimed);
    const overflow: string[] = [];
    const toStart: PreparedAttempt[] = [];
    for (const p of prepared.ready) {
      if (this.reserve(p.webhook.id)) toStart.push(p);
      else overflow.push(p.attempt.id);
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
    const disabledHooks = new Set<string>();
    const disabledAttempts: string[] = [];
    for (const attempt of claimed) {
      const webhook = byId.get(attempt.webhookId);
      const event = bodies.get(attempt.eventId);
      if (!webhook || !event) {
        orphans.push(attempt.id);
      } else if (!webhook.enabled && attempt.trigger === 'event') {
        disabledHooks.add(webhook.id);
        disabledAttempts.push(attempt.id);
      } else {
        ready.push({ attempt, webhook, event });
      }
    }
    if (disabledAttempts.length) {
      // back to pending, then cancelled with the rest of that webhook's queue
      await this.store.release(disabledAttempts);
      for (const id of disabledHooks) await this.store.cancelPending(id, 'cancelled: the webhook is disabled');
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
    const grace = this.config.get('WEBHOOK_SHUTDOWN_GRACE_MS');
    const all = Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), grace)))]);
    clearTimeout(timer);
    if (timedOut) {
      const left = [...this.running.entries()];
      this.logger.warn(`Returning ${left.length} unfinished attempts to the queue`);
      for (const [id, r] of left) {
        this.shuttingDownIds.add(id);
        r.abort.abort();
      }
      await Promise.all(left.map(([, r]) => r.done));
    }
    await this.writer.drain();
  }
}
