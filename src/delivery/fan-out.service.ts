import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EVENT_RECORDED, EventRecordedPayload } from '../events/event-bus';
import { EventsService } from '../events/events.service';
import type { EventBody } from '../events/events.types';
import type { Webhook } from '../webhooks/webhook.entity';
import { WebhooksService } from '../webhooks/webhooks.service';
import { AttemptStore, NewAttempt } from './attempt-store';
import { Dispatcher, PreparedAttempt } from './dispatcher';
import { buildEventBody } from './event-body';
import { MicroBatcher } from './micro-batcher';

const MAX_BATCH = 200;

/**
 * Turns recorded events into attempts: in one transaction, one pending
 * `webhook_logs` row per enabled matching webhook, and the event marked fanned
 * out (an event already fanned out, or locked by another instance, is skipped:
 * idempotent). Attempts this instance has room for are created already
 * claimed and sent at once; the rest wait in the queue for a claim.
 * Events arriving together are fanned out in one batch.
 */
@Injectable()
export class FanOutService {
  private readonly logger = new Logger('FanOut');
  /** Bodies handed over by the bus, so the first attempts need not read them back. */
  private readonly knownBodies = new Map<string, EventBody>();
  private readonly batcher = new MicroBatcher<string>(MAX_BATCH, (ids) => this.fanOutFromBus(ids));

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: EventsService,
    private readonly webhooks: WebhooksService,
    private readonly store: AttemptStore,
    private readonly dispatcher: Dispatcher,
  ) {}

  @OnEvent(EVENT_RECORDED)
  onRecorded(payload: EventRecordedPayload): void {
    if (this.batcher.push(payload.id)) this.knownBodies.set(payload.id, payload.body);
  }

  /** Stops taking events from the bus (the sweeper fans out what is left) and waits for the batch in progress. */
  async stop(): Promise<void> {
    for (const id of await this.batcher.close()) this.knownBodies.delete(id);
  }

  private async fanOutFromBus(ids: string[]): Promise<void> {
    try {
      await this.fanOut(ids);
    } catch (err) {
      this.logger.warn(`Fan-out of ${ids.length} events failed (the sweeper retries): ${(err as Error).message}`);
    } finally {
      for (const id of ids) this.knownBodies.delete(id);
    }
  }

  /** Fans out the given events (those still unfanned); returns the attempts created. */
  async fanOut(eventIds: string[]): Promise<number> {
    if (eventIds.length === 0) return 0;
    const subscribersByType = new Map<string, Webhook[]>();
    const reserved: string[] = [];
    let created: Awaited<ReturnType<AttemptStore['insert']>> = [];
    try {
      created = await this.db.transaction(async (m) => {
        const events = await this.events.claimForFanOut(m, eventIds);
        for (const type of new Set(events.map((e) => e.type))) {
          subscribersByType.set(type, await this.webhooks.findSubscribers(type));
        }
        const rows: NewAttempt[] = [];
        for (const event of events) {
          for (const w of subscribersByType.get(event.type)!) {
            const claimed = this.dispatcher.reserve(w.id);
            if (claimed) reserved.push(w.id);
            rows.push({ webhookId: w.id, eventId: event.id, eventType: event.type, attempt: 1, trigger: 'event', claimed });
          }
        }
        return this.store.insert(m, rows, this.dispatcher.lease);
      });
    } catch (err) {
      reserved.forEach((w) => this.dispatcher.unreserve(w));
      throw err;
    }
    // Attempts created already claimed by this instance: send them now; the others are claimed as slots free up.
    const claimed = created.filter((a) => a.claimed);
    if (claimed.length < created.length) this.dispatcher.notifyQueued();
    const unused = new Map<string, number>();
    for (const w of reserved) unused.set(w, (unused.get(w) ?? 0) + 1);
    for (const a of claimed) unused.set(a.webhookId, (unused.get(a.webhookId) ?? 0) - 1);
    // reservations whose row was not inserted (already fanned out by a conflict) are given back
    for (const [w, n] of unused) for (let i = 0; i < n; i++) this.dispatcher.unreserve(w);
    if (claimed.length === 0) return created.length;
    const hooks = new Map<string, Webhook>();
    for (const list of subscribersByType.values()) for (const w of list) hooks.set(w.id, w);
    let bodies: Map<string, EventBody>;
    try {
      const unknown = [...new Set(claimed.map((a) => a.eventId))].filter((id) => !this.knownBodies.has(id));
      bodies = unknown.length ? await this.events.bodiesFor(unknown) : new Map();
      for (const a of claimed) if (this.knownBodies.has(a.eventId)) bodies.set(a.eventId, this.knownBodies.get(a.eventId)!);
    } catch (err) {
      claimed.forEach((a) => this.dispatcher.unreserve(a.webhookId));
      await this.store.release(claimed.map((a) => a.id)).catch(() => undefined); // else the lease brings them back
      throw err;
    }
    const builtBodies = new Map<string, string>();
    const prepared: PreparedAttempt[] = [];
    for (const a of claimed) {
      const event = bodies.get(a.eventId)!;
      let body = builtBodies.get(a.eventId);
      if (!body) {
        body = buildEventBody(a.eventId, event.type, event.createdAt, event.payloadText);
        builtBodies.set(a.eventId, body);
      }
      prepared.push({ attempt: a, webhook: hooks.get(a.webhookId)!, event, body });
    }
    this.dispatcher.start(prepared);
    return created.length;
  }
}
