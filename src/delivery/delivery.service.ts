import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError } from '../common/app-error';
import { lazyJson } from '../common/lazy-json';
import { EventsService } from '../events/events.service';
import {
  WEBHOOK_DELETED,
  WEBHOOK_DISABLED,
  WEBHOOK_PACING_CHANGED,
  WebhookDeletedPayload,
  WebhookDisabledPayload,
  WebhookPacingChangedPayload,
} from '../webhooks/webhook-bus';
import { WebhooksService } from '../webhooks/webhooks.service';
import { isPaced } from '../webhooks/pacing';
import { subscribedTypes } from '../webhooks/subscription';
import { AttemptStore } from './queue/attempt-store';
import { ClaimedAttempt } from './attempt.types';
import { Dispatcher } from './queue/dispatcher';
import { buildEventBody } from './sending/event-body';
import { AttemptLogService } from './api/attempt-log.service';

/** How many attempts one recover call may queue. */
export const RECOVER_LIMIT = 10_000;
/** Events read per page by replay-missing, and at most per call. */
const REPLAY_PAGE = 1000;
export const REPLAY_MAX_SCAN = 100_000;

export interface ReplayResult {
  queued: number;
  more: boolean;
  next_since: string | null;
  limit: number;
  since: string;
  until: string;
}

export interface RetryFailedResult {
  queued: number;
  more: boolean;
  limit: number;
  since: string;
  until: string;
}

export interface TestResult {
  success: boolean;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string | null;
  log_id: string;
}

/** The operator actions on delivery: test, redeliver, recover; and cancelling on disable. */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger('Delivery');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: EventsService,
    private readonly webhooks: WebhooksService,
    private readonly store: AttemptStore,
    private readonly dispatcher: Dispatcher,
    private readonly logs: AttemptLogService,
  ) {
    // the log has no foreign key to webhooks (a check per logged attempt): a deleted webhook's log goes with it here
    webhooks.onRemove((manager, webhookId) => store.deleteLogOf(manager, webhookId));
  }

  /** Sends a `webhook.test` event to this endpoint now (enabled or not) and waits for the attempt. */
  async sendTest(webhookId: string): Promise<TestResult> {
    const webhook = await this.webhooks.getOrFail(webhookId);
    const event = await this.events.emit(
      'webhook.test',
      { webhook_id: webhook.id, webhook_name: webhook.name, message: 'This is a test delivery from ATLAS Webhooks.' },
      { fanOut: false },
    );
    const attempt = await this.createClaimed(webhook.id, event.id, event.createdAt, 'webhook.test', 1, 'test');
    const [body] = [...(await this.events.bodiesFor([event.id])).values()];
    const outcome = await this.dispatcher.runNow({
      attempt,
      webhook,
      event: body,
      body: buildEventBody(event.id, body.type, body.createdAt, body.payloadText),
    });
    if (!outcome) throw new AppError('SERVICE_UNAVAILABLE', 'The service is shutting down; try again');
    const r = outcome.result;
    return { success: r.success, status_code: r.statusCode, duration_ms: r.durationMs, error: r.error, response_body: r.responseBody, log_id: attempt.id };
  }

  /** One new attempt of the logged event now; not rescheduled if it fails (like GitHub's redeliver). */
  async redeliver(webhookId: string, logId: string): Promise<ClaimedAttempt> {
    const webhook = await this.webhooks.getOrFail(webhookId);
    const log = await this.logs.findOne(webhookId, logId);
    if (!log) throw new AppError('LOG_NOT_FOUND', `No attempt ${logId} for webhook ${webhookId}`);
    const bodies = await this.events.bodiesFor([log.event_id]);
    const event = bodies.get(log.event_id);
    if (!event) throw new AppError('EVENT_NOT_FOUND', `The event ${log.event_id} of that attempt no longer exists (retention)`);
    const attempt = await this.db.transaction(async (m) => {
      const n = await this.store.nextAttemptNumber(m, webhookId, log.event_id);
      const [row] = await this.store.insert(
        m,
        [{ webhookId, eventId: log.event_id, eventCreatedAt: event.createdAt, eventType: log.event_type, attempt: n, trigger: 'redeliver', claimed: true }],
        this.dispatcher.lease,
      );
      return row;
    });
    void this.dispatcher.runNow({ attempt, webhook, event, body: buildEventBody(log.event_id, event.type, event.createdAt, event.payloadText) });
    return attempt;
  }

  /**
   * Queues one new attempt for every event delivered to this webhook since
   * `since` that never succeeded and has nothing queued (at most RECOVER_LIMIT).
   */
  async recover(webhookId: string, since: Date): Promise<{ queued: number; limit: number; since: string }> {
    const webhook = await this.webhooks.getOrFail(webhookId);
    this.logger.log({ msg: 'recover started', webhook_id: webhookId, since: since.toISOString() });
    const queued = await this.store.queueRecovery(webhookId, since, RECOVER_LIMIT, isPaced(webhook));
    this.logger.log({ msg: 'recover queued', webhook_id: webhookId, queued, limit: RECOVER_LIMIT });
    if (queued) this.dispatcher.notifyQueued(); // a failed claim is logged, the sweeper claims again
    return { queued, limit: RECOVER_LIMIT, since: since.toISOString() };
  }

  /**
   * Replay what a webhook missed: one attempt (trigger `replay`) for every
   * event recorded in [since, until) that its subscriptions and filter select
   * and that has no attempt at it (recorded while it was disabled, before it
   * subscribed, or filtered out then), oldest first, at most `limit`. Events
   * are read from the event store page by page (EventsService), up to
   * REPLAY_MAX_SCAN per call; `more` says the call stopped early and
   * `next_since` where to go on. Operational events about this webhook are
   * never replayed to it.
   */
  async replayMissing(webhookId: string, since: Date, until: Date, limit: number): Promise<ReplayResult> {
    const webhook = await this.webhooks.getOrFail(webhookId);
    if (!webhook.enabled) throw new AppError('CONFLICT', 'The webhook is disabled: enable it first, then replay what it missed');
    const types = subscribedTypes(webhook.events, await this.events.subscribable());
    this.logger.log({ msg: 'replay started', webhook_id: webhookId, since: since.toISOString(), until: until.toISOString(), limit });
    let queued = 0;
    let scanned = 0;
    let after: string | undefined;
    let more = false;
    let nextSince: Date | null = null;
    for (;;) {
      const page = await this.events.fannedOutInRange({ types, since, until, after, limit: REPLAY_PAGE });
      scanned += page.length;
      const wanted = page.filter((e) => this.webhooks.accepts(webhook, e.type, lazyJson(e.payloadText)));
      const done = await this.store.queueReplay(webhookId, wanted, limit - queued, isPaced(webhook));
      queued += done.length;
      if (queued >= limit) {
        // stopped at the limit: go on after the last event queued (since is inclusive; what is queued is skipped)
        const last = new Set(done);
        const lastQueued = [...wanted].reverse().find((e) => last.has(e.id));
        more = true;
        nextSince = lastQueued?.createdAt ?? null;
        break;
      }
      if (page.length < REPLAY_PAGE) break;
      after = page[page.length - 1].cursor;
      if (scanned >= REPLAY_MAX_SCAN) {
        more = true;
        nextSince = page[page.length - 1].createdAt;
        break;
      }
    }
    this.logger.log({ msg: 'replay queued', webhook_id: webhookId, queued, scanned, more });
    if (queued) this.dispatcher.notifyQueued();
    return { queued, more, next_since: nextSince ? nextSince.toISOString() : null, limit, since: since.toISOString(), until: until.toISOString() };
  }

  /**
   * The bulk retry across webhooks, for an operator cleaning up after an
   * outage: one new attempt (trigger `retry`) per (webhook, event) that
   * failed in [since, until) (optionally of one type), at enabled webhooks,
   * unless that event has succeeded there since or something is queued.
   */
  async retryFailed(since: Date, until: Date, eventType: string | null, limit: number): Promise<RetryFailedResult> {
    if (eventType !== null) {
      const catalogue = await this.events.catalogue();
      if (!catalogue.get(eventType)) {
        throw new AppError('UNKNOWN_EVENT_TYPE', `event_type must be an event type; unknown "${eventType.slice(0, 100)}"; valid types: ${catalogue.names()}`);
      }
    }
    this.logger.log({ msg: 'bulk retry started', since: since.toISOString(), until: until.toISOString(), event_type: eventType, limit });
    const pacedIds = (await this.webhooks.findPaced()).map((w) => w.id);
    const queued = await this.store.queueRetryOfFailed(since, until, eventType, await this.webhooks.enabledIds(), limit, pacedIds);
    this.logger.log({ msg: 'bulk retry queued', queued });
    if (queued) this.dispatcher.notifyQueued();
    return { queued, more: queued >= limit, limit, since: since.toISOString(), until: until.toISOString() };
  }

  /**
   * A disabled webhook gets no new attempts: its queue is cancelled and logged
   * as such, the attempts this instance had claimed for it but not started
   * included (taken from the waiting room at once, before a freed slot could
   * start them).
   */
  @OnEvent(WEBHOOK_DISABLED)
  async onWebhookDisabled(payload: WebhookDisabledPayload): Promise<void> {
    const waiting = this.dispatcher.dropWaiting(payload.id);
    try {
      await this.store.release(waiting);
      const n = await this.store.cancelPending(payload.id, payload.reason);
      if (n) this.logger.log({ msg: 'pending attempts cancelled', webhook_id: payload.id, cancelled: n, reason: payload.reason });
    } catch (err) {
      this.logger.warn(`Could not cancel the queue of webhook ${payload.id}: ${(err as Error).message}`);
    }
  }

  /** A webhook's rate limit or ordering changed: its queued attempts move to the paced lane, or back to the claim loop. */
  @OnEvent(WEBHOOK_PACING_CHANGED)
  async onPacingChanged(payload: WebhookPacingChangedPayload): Promise<void> {
    try {
      await this.store.setPaced(payload.id, payload.paced);
      this.dispatcher.notifyQueued();
    } catch (err) {
      this.logger.warn(`Could not move the queue of webhook ${payload.id} to its new pacing: ${(err as Error).message}`);
    }
  }

  /** A deleted webhook's attempts are gone: the ones waiting here for a slot are forgotten. */
  @OnEvent(WEBHOOK_DELETED)
  onWebhookDeleted(payload: WebhookDeletedPayload): void {
    this.dispatcher.dropWaiting(payload.id);
  }

  private async createClaimed(
    webhookId: string,
    eventId: string,
    eventCreatedAt: Date,
    eventType: string,
    attempt: number,
    trigger: 'test',
  ): Promise<ClaimedAttempt> {
    const [row] = await this.store.insert(
      this.db.manager,
      [{ webhookId, eventId, eventCreatedAt, eventType, attempt, trigger, claimed: true }],
      this.dispatcher.lease,
    );
    return row;
  }
}
