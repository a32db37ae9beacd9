import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EVENT_RECORDED, EventRecordedPayload } from '../../events/event-bus';
import { EventsService } from '../../events/events.service';
import type { EventBody } from '../../events/events.types';
import type { Webhook } from '../../webhooks/webhook.entity';
import { WebhooksService } from '../../webhooks/webhooks.service';
import { AttemptStore, InsertedAttempt, NewAttempt } from './attempt-store';
import type { PreparedAttempt } from '../attempt.types';
import { Dispatcher } from './dispatcher';
import { buildEventBody } from '../sending/event-body';
import { MicroBatcher } from './micro-batcher';

const MAX_BATCH = 200;

/**
 * Turns recorded events into attempts: in one transaction, the events
 * claimed (marked fanned out; EventsService) and one attempt per enabled
 * matching webhook inserted into the queue. Idempotent: an event already
 * fanned out, or being fanned out by another instance, is skipped with its
 * attempts. Attempts this instance has room for are created already claimed
 * and sent at once; the rest wait in the queue for a claim. Events arriving
 * together are fanned out in one batch.
 */
@Injectable()
export class FanOutService {
  private readonly logger = new Logger('FanOut');
  /** Bodies handed over by the bus, so the first attempts need not read them back. */
  private readonly knownBodies = new Map<string, EventBody>();
  /** Two batches at a time: an event arriving while one batch is in the database does not wait for it. */
  private readonly batcher = new MicroBatcher<string>(MAX_BATCH, (ids) => this.fanOutFromBus(ids), 2);

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

  /**
   * Fans out the given events (those still unfanned); returns the attempts
   * created: the subscribers of the batch's types in one query, then one
   * transaction with the events' claim and the attempts' insert (each module
   * writing its own table).
   */
  async fanOut(eventIds: string[]): Promise<number> {
    if (eventIds.length === 0) return 0;
    const bodies = await this.bodiesOf(eventIds);
    const subscribers = await this.webhooks.findSubscribersOfTypes([...new Set([...bodies.values()].map((b) => b.type))]);
    const rows: NewAttempt[] = [];
    const reserved: string[] = [];
    for (const [eventId, event] of bodies) {
      for (const w of subscribers.get(event.type) ?? []) {
        const claimed = this.dispatcher.reserve(w.id);
        if (claimed) reserved.push(w.id);
        rows.push({ webhookId: w.id, eventId, eventCreatedAt: event.createdAt, eventType: event.type, attempt: 1, trigger: 'event', claimed });
      }
    }
    let created: InsertedAttempt[];
    try {
      // one transaction: the events are marked fanned out together with their attempts, or not at all;
      // events another fan-out holds (or already did) are left out, with their attempts
      created = await this.db.transaction(async (m) => {
        const claimed = new Set((await this.events.claimForFanOut(m, [...bodies.keys()])).map((e) => e.id));
        return this.store.insert(
          m,
          rows.filter((r) => claimed.has(r.eventId)),
          this.dispatcher.lease,
        );
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
    // reservations whose row was not inserted (the event was fanned out elsewhere) are given back
    for (const [w, n] of unused) for (let i = 0; i < n; i++) this.dispatcher.unreserve(w);
    if (claimed.length > 0) this.startClaimed(claimed, bodies, subscribers);
    return created.length;
  }

  private startClaimed(claimed: InsertedAttempt[], bodies: Map<string, EventBody>, subscribers: Map<string, Webhook[]>): void {
    const hooks = new Map<string, Webhook>();
    for (const list of subscribers.values()) for (const w of list) hooks.set(w.id, w);
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
  }

  /** The stored bodies of the events: handed over by the bus, or read (the sweeper's events); unknown ids are left out. */
  private async bodiesOf(eventIds: string[]): Promise<Map<string, EventBody>> {
    const bodies = new Map<string, EventBody>();
    const unknown: string[] = [];
    for (const id of new Set(eventIds)) {
      const known = this.knownBodies.get(id);
      if (known) bodies.set(id, known);
      else unknown.push(id);
    }
    if (unknown.length) for (const [id, body] of await this.events.bodiesFor(unknown)) bodies.set(id, body);
    return bodies;
  }
}
