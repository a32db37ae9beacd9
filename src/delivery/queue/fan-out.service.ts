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
import { Admission, Dispatcher } from './dispatcher';
import { isPaced } from '../../webhooks/pacing';
import { buildEventBody } from '../sending/event-body';
import { MicroBatcher } from '../../common/micro-batcher';
import { lazyJson } from '../../common/lazy-json';

const MAX_BATCH = 200;

/**
 * Turns recorded events into attempts: in one transaction, the events
 * claimed (marked fanned out; EventsService) and one attempt per enabled
 * matching webhook inserted into the queue. Idempotent: an event already
 * fanned out, or being fanned out by another instance, is skipped with its
 * attempts. Attempts this instance has room for are created already leased:
 * sent at once when a slot is free, or held in the waiting room until one
 * is (no claim needed); the rest wait in the queue for a claim. Events
 * arriving together are fanned out in one batch.
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
    const admitted: Array<{ webhookId: string; admission: Admission }> = [];
    for (const [eventId, event] of bodies) {
      // the event's data, parsed once, and only when a subscriber has a payload filter (or the event is operational)
      const data = lazyJson(event.payloadText);
      for (const w of subscribers.get(event.type) ?? []) {
        if (!this.webhooks.accepts(w, event.type, data)) continue;
        const admission = this.dispatcher.admit(w);
        if (admission) admitted.push({ webhookId: w.id, admission });
        rows.push({
          webhookId: w.id,
          eventId,
          eventCreatedAt: event.createdAt,
          eventType: event.type,
          attempt: 1,
          trigger: 'event',
          claimed: admission !== null,
          paced: isPaced(w),
        });
      }
    }
    let created: InsertedAttempt[];
    try {
      if (rows.length === 0) {
        // nobody subscribes: the mark alone, one statement (no transaction to pay for)
        await this.events.claimForFanOut(this.db.manager, this.eventKeys(bodies));
        created = [];
      } else {
        // one statement: the events are marked fanned out together with their attempts, or not at all;
        // events another fan-out holds (or already did) are left out, with their attempts
        created = await this.store.insertForClaimedEvents(rows, this.dispatcher.lease, this.eventKeys(bodies));
      }
    } catch (err) {
      for (const a of admitted) this.dispatcher.unadmit(a.webhookId, a.admission);
      throw err;
    }
    const claimed = created.filter((a) => a.claimed);
    if (claimed.length < created.length) this.dispatcher.notifyQueued();
    // the inserted attempts use the admissions of their webhook in order, slots first; what is left over
    // (the event was fanned out elsewhere) is given back
    const byWebhook = new Map<string, Admission[]>();
    for (const a of admitted) byWebhook.set(a.webhookId, [...(byWebhook.get(a.webhookId) ?? []), a.admission]);
    for (const list of byWebhook.values()) list.sort((a, b) => (a === b ? 0 : a === 'slot' ? -1 : 1));
    const withSlot: InsertedAttempt[] = [];
    const held: InsertedAttempt[] = [];
    for (const a of claimed) (byWebhook.get(a.webhookId)!.shift() === 'slot' ? withSlot : held).push(a);
    for (const [w, list] of byWebhook) for (const admission of list) this.dispatcher.unadmit(w, admission);
    if (claimed.length > 0) {
      const prepared = this.prepare(claimed, bodies, subscribers);
      this.dispatcher.start(withSlot.map((a) => prepared.get(a.id)!));
      this.dispatcher.hold(held.map((a) => prepared.get(a.id)!));
    }
    return created.length;
  }

  /** The attempts with their webhooks and bodies (one body per event), by attempt id. */
  private prepare(claimed: InsertedAttempt[], bodies: Map<string, EventBody>, subscribers: Map<string, Webhook[]>): Map<string, PreparedAttempt> {
    const hooks = new Map<string, Webhook>();
    for (const list of subscribers.values()) for (const w of list) hooks.set(w.id, w);
    const builtBodies = new Map<string, string>();
    const prepared = new Map<string, PreparedAttempt>();
    for (const a of claimed) {
      const event = bodies.get(a.eventId)!;
      let body = builtBodies.get(a.eventId);
      if (!body) {
        body = buildEventBody(a.eventId, event.type, event.createdAt, event.payloadText);
        builtBodies.set(a.eventId, body);
      }
      prepared.set(a.id, { attempt: a, webhook: hooks.get(a.webhookId)!, event, body });
    }
    return prepared;
  }

  private eventKeys(bodies: Map<string, EventBody>): Array<{ id: string; createdAt: Date }> {
    return [...bodies].map(([id, b]) => ({ id, createdAt: b.createdAt }));
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
