import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { WebhooksService } from '../../webhooks/webhooks.service';
import type { Webhook } from '../../webhooks/webhook.entity';
import { isPaced } from '../../webhooks/pacing';
import { AttemptStore } from './attempt-store';
import { AttemptOutcome, ClaimedAttempt, PreparedAttempt, SendResult } from '../attempt.types';
import { DeliveryObserver } from '../delivery-observer';
import { AttemptPreparer, Prefetched } from './attempt-preparer';
import { ClaimLoop, ClaimReport, QueueView } from './claim-loop';
import { nextRetryAt } from './retry-policy';
import { Slots } from './slots';
import { EndpointPace } from './endpoint-pace';
import { ResultWriter } from './result-writer';
import { signedRequest } from '../sending/signed-request';
import { WaitingRoom } from './waiting-room';
import { WebhookSender } from '../sending/webhook-sender';

const CLAIM_BATCH = 1024;
/**
 * Behind a backlog a claim fetches up to this many times the in-flight
 * limit (in flight plus waiting), overall and per webhook, so that freed
 * slots start their next attempt from memory, and claims come in big
 * batches: the waiting room is refilled once a quarter of that depth is
 * free, not whenever a few slots free up. Draining 100,000 attempts
 * (2026-12-04, 64 in flight): depth 4, refilled at 32 free, made claims of
 * about 90 and gave 0.64 of the minimal sender's rate; depth 8, refilled at
 * a quarter, 0.69 (claims of 140); depth 16, 0.70 (claims of 220, 448
 * claims instead of 1,140).
 */
const PREFETCH_DEPTH = 16;
/**
 * Most attempts held in memory waiting for a slot (leased, so no other
 * instance sends them): a few seconds of sending at the rates this engine
 * reaches, far below the lease. Each webhook's share of it follows its
 * endpoint's pace (`EndpointPace`): what its slots get through in
 * HOLD_HORIZON_MS.
 */
const MAX_HELD = 16384;
const HOLD_HORIZON_MS = 2000;
/** A webhook's share of the waiting room is never below this many times its slots (nor above a quarter of the room). */
const MIN_SHARE_PER_SLOT = 3;

/**
 * The paced lane (`PacedLane`) as the dispatcher sees it: the webhooks it
 * claims for (the claim loop leaves them alone), and a wake-up when one of
 * their attempts was recorded or attempts were queued.
 */
export interface PacedLaneHooks {
  pacedIds(): string[];
  wake(): void;
}

/** How the fan-out may take an attempt it creates: with a slot (sent at once), held in the waiting room, or not (queued). */
export type Admission = 'slot' | 'hold' | null;
/** Results waiting to be written beyond which no more attempts are claimed. */
const MAX_WRITE_BACKLOG = 2000;

/**
 * Runs attempts within the in-flight limits (`Slots`), records each outcome
 * and schedules retries. The claim loop (`ClaimLoop`) decides when to claim
 * due attempts; the claim step here decides how many and starts them.
 * Claimed attempts without a free slot wait in the `WaitingRoom`.
 */
@Injectable()
export class Dispatcher {
  private readonly logger = new Logger('Delivery');
  private readonly slots: Slots;
  /** Attempts whose HTTP request is under way (no promise of their own: shutdown waits for the set to empty). */
  private readonly running = new Set<string>();
  /** Shutdown's wait for `running` to empty. */
  private idle: (() => void) | null = null;
  private readonly leaseMs: number;
  private readonly schedule: number[];
  private accepting: boolean;
  private readonly returnedAtShutdown = new Set<string>();
  private readonly waiting: WaitingRoom<PreparedAttempt>;
  private readonly loop: ClaimLoop;
  private readonly pace: EndpointPace;
  private lane: PacedLaneHooks = { pacedIds: () => [], wake: () => undefined };

  constructor(
    private readonly config: AppConfig,
    private readonly store: AttemptStore,
    private readonly writer: ResultWriter,
    private readonly sender: WebhookSender,
    private readonly webhooks: WebhooksService,
    private readonly preparer: AttemptPreparer,
    private readonly observer: DeliveryObserver,
  ) {
    this.slots = new Slots(config.get('WEBHOOK_MAX_IN_FLIGHT'), config.get('WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT'));
    this.leaseMs = config.get('WEBHOOK_LEASE_MS');
    this.schedule = config.get('WEBHOOK_RETRY_SCHEDULE');
    this.accepting = config.get('WEBHOOK_WORKER');
    this.waiting = new WaitingRoom(MAX_HELD, this.leaseMs / 2);
    this.pace = new EndpointPace(this.slots.perWebhook, HOLD_HORIZON_MS, this.slots.perWebhook * MIN_SHARE_PER_SLOT, MAX_HELD / 4);
    this.loop = new ClaimLoop({
      claim: (queue) => this.claim(queue),
      writesLagging: () => this.writer.backlog > MAX_WRITE_BACKLOG,
      writesDrained: () => this.writer.backlogBelow(MAX_WRITE_BACKLOG / 2),
      defer: (fn) => setImmediate(fn),
      onError: (err) => this.logger.warn(`Claim failed: ${err.message}`),
    });
    if (!this.accepting) void this.loop.stop();
  }

  get isWorker(): boolean {
    return this.accepting;
  }

  get lease(): number {
    return this.leaseMs;
  }

  /** Connects the paced lane (once, at startup). */
  attachLane(lane: PacedLaneHooks): void {
    this.lane = lane;
  }

  /** How many attempts of a paced webhook this instance could start now. */
  pacedRoom(webhookId: string): number {
    return this.accepting ? this.slots.freeFor(webhookId) : 0;
  }

  /** Starts attempts the paced lane claimed (within pacedRoom); any without a slot go back to the queue. */
  async startPaced(claimed: ClaimedAttempt[]): Promise<void> {
    await this.startClaimed(claimed, false);
  }

  get inFlightCount(): number {
    return this.slots.inFlight;
  }

  /**
   * For a fan-out about to create an attempt: a slot if the limits allow it
   * (the attempt is created leased and sent at once), else a place in the
   * waiting room if there is one (created leased, sent when a slot of its
   * webhook frees up: no claim needed), else null (it goes to the queue, and
   * the fan-out calls notifyQueued once it is committed). A new attempt does
   * not overtake claimed ones waiting for its webhook's next slot. Attempts
   * of paced webhooks always go to the queue, for the paced lane.
   */
  admit(webhook: Webhook): Admission {
    if (!this.accepting || isPaced(webhook)) return null;
    const webhookId = webhook.id;
    if (!this.waiting.has(webhookId) && this.slots.take(webhookId)) return 'slot';
    return this.waiting.hold(webhookId, this.pace.share(webhookId)) ? 'hold' : null;
  }

  /** Gives back what admit() took for an attempt that was not created after all. */
  unadmit(webhookId: string, admission: Admission): void {
    if (admission === 'slot') this.slots.release(webhookId);
    else if (admission === 'hold') this.waiting.unhold(webhookId);
  }

  /** Sends attempts admitted with a slot (does not wait for them). */
  start(prepared: PreparedAttempt[]): void {
    for (const p of prepared) void this.run(p);
  }

  /** Parks attempts admitted with a hold until a slot of their webhook frees up. */
  hold(prepared: PreparedAttempt[]): void {
    for (const p of prepared) {
      this.waiting.unhold(p.webhook.id);
      if (!this.accepting || !this.waiting.park(p.webhook.id, p)) void this.handBack([p.attempt.id]);
    }
    this.startWaiting();
  }

  /**
   * Sends one attempt now, past the limits (the test route and redeliver: an
   * operator is waiting), and resolves with the recorded outcome.
   */
  runNow(p: PreparedAttempt): Promise<AttemptOutcome | null> {
    this.slots.force(p.webhook.id);
    return this.run(p);
  }

  /** Attempts went into the queue unclaimed: claim as soon as there is room, rather than at the next sweep. */
  notifyQueued(): void {
    if (!this.accepting) return;
    this.loop.wake('queued');
    this.lane.wake();
  }

  /** Claims now (the sweeper's clock) as many due attempts as there is room for; resolves with how many. */
  claimAndRun(): Promise<number> {
    return this.loop.tick();
  }

  /** Forgets the attempts waiting for a slot of this webhook (disabled or deleted) and returns their ids. */
  dropWaiting(webhookId: string): string[] {
    this.pace.forget(webhookId);
    return this.waiting.takeWebhook(webhookId).map((p) => p.attempt.id);
  }

  /**
   * Sends, then frees the slot at once (the endpoint is done with it), then
   * records the outcome: the slot is not held while the result waits for its
   * batch to commit.
   */
  private async run(p: PreparedAttempt): Promise<AttemptOutcome | null> {
    this.running.add(p.attempt.id);
    let result: SendResult;
    try {
      result = await this.send(p);
      this.pace.observe(p.webhook.id, result.durationMs);
      if (result.statusCode === 410) {
        // disabled before this slot frees up, so no further attempt goes to an endpoint that is gone
        await this.webhooks
          .disable(p.webhook.id, 'the endpoint answered 410 Gone')
          .catch((err: Error) => this.logger.error(`Could not disable webhook ${p.webhook.id} after 410 Gone: ${err.message}`));
      }
    } finally {
      this.running.delete(p.attempt.id);
      this.slots.release(p.webhook.id);
      if (this.idle && this.running.size === 0) this.idle();
      this.startWaiting(p.webhook.id);
      this.loop.wake('slotFreed');
    }
    if (this.returnedAtShutdown.has(p.attempt.id)) return null; // cut short by shutdown: back to the queue
    const outcome: AttemptOutcome = { attempt: p.attempt, result, nextRetryAt: nextRetryAt(p.attempt, p.webhook, result, this.schedule) };
    this.observer.attemptFinished(p, outcome);
    try {
      await this.writer.write(outcome);
    } catch (err) {
      this.logger.warn(`Could not record attempt ${p.attempt.id} (its lease brings it back to the queue): ${(err as Error).message}`);
    }
    // FIFO's next event may go once this one is recorded
    if (isPaced(p.webhook)) this.lane.wake();
    return outcome;
  }

  private send(p: PreparedAttempt): Promise<SendResult> {
    const { headers, recorded } = signedRequest(p.attempt, p.webhook, p.body, this.webhooks.signingSecrets(p.webhook, new Date()));
    return this.sender.send({ url: p.webhook.url, body: p.body, headers, recordedHeaders: recorded, timeoutMs: p.webhook.timeoutMs });
  }

  /**
   * Starts the waiting attempts that have a slot now, those of `first` (whose
   * slot just freed up) first: usually that one attempt takes the one free
   * slot, and the other webhooks are not looked at.
   */
  private startWaiting(first?: string): void {
    if (this.waiting.size === 0 || this.slots.free <= 0) return;
    const expired: PreparedAttempt[] = [];
    if (first !== undefined && this.waiting.has(first)) this.startFrom(first, expired);
    if (this.slots.free > 0) {
      for (const webhookId of this.waiting.webhooks()) {
        if (this.slots.free <= 0) break;
        this.startFrom(webhookId, expired);
      }
    }
    if (expired.length > 0) void this.handBack(expired.map((p) => p.attempt.id));
  }

  /** Starts waiting attempts of one webhook while it has free slots. */
  private startFrom(webhookId: string, expired: PreparedAttempt[]): void {
    while (this.slots.take(webhookId)) {
      const p = this.waiting.take(webhookId, expired);
      if (!p) {
        this.slots.release(webhookId);
        return;
      }
      void this.run(p);
    }
  }

  /** Resolves when no HTTP request of an attempt is under way. */
  private allFinished(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.idle = () => {
        this.idle = null;
        resolve();
      };
    });
  }

  /** Returns attempts this instance will not send after all to the queue (the lease would, later). */
  private handBack(ids: string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return this.store
      .release(ids)
      .catch((err: Error) => this.logger.warn(`Could not return ${ids.length} attempts to the queue (their lease will): ${err.message}`));
  }

  /**
   * The claim step: claims as many due attempts as there is room for, taking
   * from each webhook no more than its free slots (and, behind a backlog, as
   * many again to wait in the waiting room), and starts them.
   */
  private async claim(queue: QueueView): Promise<ClaimReport> {
    void this.handBack(this.waiting.takeExpired().map((p) => p.attempt.id));
    this.startWaiting();
    if (!this.accepting) return { claimed: 0, queue };
    // Behind a backlog, claims fill the free slots and, beyond them, the waiting room: a slot that
    // frees up takes its next attempt from there at once, without a round trip to the queue.
    // Without one, they take just the free slots.
    const ahead = queue === 'backlog';
    const depth = ahead ? PREFETCH_DEPTH : 1;
    const room = Math.min(this.slots.max * depth - this.slots.inFlight - this.waiting.size, CLAIM_BATCH);
    if (room <= 0) return { claimed: 0, queue };
    // behind a backlog, refill the waiting room once a quarter of its depth is free, in one claim,
    // rather than a claim for every few slots that free up
    if (ahead && this.waiting.size > 0 && room < Math.min(this.slots.max * depth, CLAIM_BATCH) / 4) return { claimed: 0, queue };
    const held = this.slots.snapshot();
    for (const [id, n] of this.waiting.counts()) held.set(id, (held.get(id) ?? 0) + n);
    const others = this.slots.perWebhook * depth;
    const perWebhook = new Map([...held].map(([id, n]) => [id, others - n]));
    const { attempts: claimed, expiredLeases, prefetched } = await this.store.claimDue(room, this.leaseMs, perWebhook, others, this.lane.pacedIds());
    if (expiredLeases) this.logger.warn(`${expiredLeases} attempts outlived their lease (an instance died?) and are sent again`);
    await this.startClaimed(claimed, true, prefetched);
    return { claimed: claimed.length, queue: queueAfter(claimed, room, perWebhook, others) };
  }

  /** Starts claimed attempts that have a slot; the others wait for one in the waiting room (`park`) or go back to the queue. */
  private async startClaimed(claimed: ClaimedAttempt[], park = true, prefetched?: Prefetched): Promise<void> {
    if (claimed.length === 0) return;
    const prepared = await this.preparer.prepare(claimed, prefetched);
    const overflow: string[] = [];
    const toStart: PreparedAttempt[] = [];
    for (const p of prepared.ready) {
      // no free slot (taken by a fan-out while the claim ran, or claimed ahead): wait for the next one here
      if (this.accepting && !this.waiting.has(p.webhook.id) && this.slots.take(p.webhook.id)) toStart.push(p);
      else if (!park || !this.accepting || !this.waiting.park(p.webhook.id, p)) overflow.push(p.attempt.id);
    }
    await this.store.release([...overflow, ...prepared.orphans]);
    this.start(toStart);
  }

  /**
   * Shutdown: stop claiming, give in-flight attempts up to
   * WEBHOOK_SHUTDOWN_GRACE_MS, then abort the rest and return them to the
   * queue; finally commit every recorded outcome.
   */
  async shutdown(): Promise<void> {
    this.accepting = false;
    await this.loop.stop();
    await this.handBack(this.waiting.takeAll().map((p) => p.attempt.id));
    const grace = this.config.get('WEBHOOK_SHUTDOWN_GRACE_MS');
    let timer: NodeJS.Timeout | undefined;
    const all = this.allFinished();
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), grace)))]);
    clearTimeout(timer);
    if (timedOut) {
      const left = [...this.running];
      this.logger.warn(`Returning ${left.length} unfinished attempts to the queue`);
      left.forEach((id) => this.returnedAtShutdown.add(id));
      this.sender.abortInFlight();
      await all;
      await this.handBack(left);
    }
    await this.writer.drain();
  }
}

/**
 * What a claim says about the queue: a backlog when it took all it could,
 * overall or for some webhook (one that reached its room, counting what it
 * holds already: its slots may free up at any moment, and the next claim
 * should fetch ahead for it); more may be due when it found any; drained
 * otherwise. `perWebhook` is the room each webhook had before the claim,
 * `otherWebhooks` that of the webhooks not listed.
 */
export function queueAfter(claimed: ClaimedAttempt[], room: number, perWebhook: Map<string, number>, otherWebhooks: number): QueueView {
  if (claimed.length >= room) return 'backlog';
  const left = new Map(perWebhook);
  for (const [, n] of left) if (n <= 0) return 'backlog';
  for (const c of claimed) {
    const n = (left.get(c.webhookId) ?? otherWebhooks) - 1;
    if (n <= 0) return 'backlog';
    left.set(c.webhookId, n);
  }
  return claimed.length > 0 ? 'more' : 'drained';
}
