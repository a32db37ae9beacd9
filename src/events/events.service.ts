import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../common/app-error';
import { canonicalJson, CanonicalJsonError } from '../common/canonical-json';
import { isUuid } from '../common/uuid';
import { MicroBatcher } from '../common/micro-batcher';
import { AppConfig } from '../config/app-config';
import { createDailyPartitions, dropDailyPartitionsBefore, utcDay } from '../database/daily-partitions';
import { affectedRows, returnedRows } from '../database/query-result';
import { EVENT_RECORDED, EventRecordedPayload } from './event-bus';
import { isEventType, listEventTypes } from './event-catalogue';
import { EmitOptions, EventBody, EventListFilter, EventView, RecordedEvent } from './events.types';

const EVENTS_TABLE = 'webhook_events';
/** Most events one group-committed insert takes. */
const INSERT_BATCH = 256;

/** An event waiting for its group-committed insert. */
interface PendingInsert {
  id: string;
  type: string;
  text: string;
  fanOut: boolean;
  resolve: (createdAt: Date) => void;
  reject: (err: Error) => void;
}

interface EventRow {
  id: string;
  type: string;
  payload: string;
  created_at: Date;
  fanned_out_at: Date | null;
}

function toView(row: EventRow): EventView {
  return {
    id: row.id,
    type: row.type,
    data: JSON.parse(row.payload) as unknown,
    created_at: row.created_at.toISOString(),
    fanned_out_at: row.fanned_out_at ? row.fanned_out_at.toISOString() : null,
  };
}

/**
 * Records domain events. Each event is serialised once to canonical JSON and
 * stored verbatim (`json` column), so every delivery signs exactly the stored
 * text. Knows nothing about webhooks: it announces committed events on the bus.
 */
@Injectable()
export class EventsService {
  private readonly logger = new Logger(EventsService.name);
  /**
   * Group commit: the events of concurrent emits (without a caller's
   * transaction) that arrive while an insert runs go together into the next
   * one, one statement and one commit for all of them; each emit still
   * resolves only once its row is committed.
   */
  private readonly inserts = new MicroBatcher<PendingInsert>(INSERT_BATCH, (batch) => this.insertBatch(batch), 2);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly bus: EventEmitter2,
    private readonly config: AppConfig,
  ) {}

  /**
   * Validates and stores one event; durable once the promise resolves (or, with
   * `options.manager`, once the caller's transaction commits).
   *
   * Without a manager the insert commits on its own and `event.recorded` is
   * published right after, so delivery starts at once. With a manager the row
   * is written inside the caller's transaction and NOT published: a listener
   * could otherwise look for a row that is not committed yet (or never will be,
   * on rollback). The sweeper finds the unfanned row after the caller commits.
   */
  async emit(type: string, data: unknown, options: EmitOptions = {}): Promise<RecordedEvent> {
    if (!isEventType(type)) {
      throw new AppError('UNKNOWN_EVENT_TYPE', `Unknown event type "${String(type).slice(0, 100)}"; valid types: ${listEventTypes()}`);
    }
    const text = this.serialise(data === undefined ? {} : data);
    const limit = this.config.get('WEBHOOK_MAX_PAYLOAD_BYTES');
    const size = Buffer.byteLength(text, 'utf8');
    if (size > limit) {
      throw new AppError('PAYLOAD_TOO_LARGE', `The event data is ${size} bytes as JSON, more than the limit of ${limit} bytes (WEBHOOK_MAX_PAYLOAD_BYTES)`);
    }
    const id = randomUUID();
    const fanOut = options.fanOut !== false;
    let createdAt: Date;
    if (options.manager) {
      const rows = await options.manager.query<Array<{ created_at: Date }>>(
        `INSERT INTO webhook_events (id, type, payload, fanned_out_at)
         VALUES ($1, $2, $3::json, CASE WHEN $4::boolean THEN NULL ELSE now() END)
         RETURNING created_at`,
        [id, type, text, fanOut],
      );
      createdAt = rows[0].created_at;
    } else {
      createdAt = await new Promise<Date>((resolve, reject) => {
        this.inserts.push({ id, type, text, fanOut, resolve, reject });
      });
    }
    const recorded: RecordedEvent = { id, type, createdAt };
    if (!options.manager && fanOut) this.publish({ id, type, body: { type, payloadText: text, createdAt } });
    return recorded;
  }

  /** One statement for a batch of emits (clock_timestamp(): each row gets its own time, not the statement's). */
  private async insertBatch(batch: PendingInsert[]): Promise<void> {
    try {
      const rows = await this.db.query<Array<{ id: string; created_at: Date }>>(
        `INSERT INTO webhook_events (id, type, payload, fanned_out_at, created_at)
         SELECT id, type, payload::json, CASE WHEN fan_out THEN NULL ELSE now() END, clock_timestamp()
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::boolean[]) WITH ORDINALITY AS x(id, type, payload, fan_out, n)
         ORDER BY n
         RETURNING id, created_at`,
        [batch.map((b) => b.id), batch.map((b) => b.type), batch.map((b) => b.text), batch.map((b) => b.fanOut)],
      );
      const at = new Map(rows.map((r) => [r.id, r.created_at]));
      for (const b of batch) b.resolve(at.get(b.id)!);
    } catch (err) {
      for (const b of batch) b.reject(err as Error);
    }
  }

  /**
   * Claims events for a fan-out, inside the caller's transaction: marks
   * those of `events` not fanned out yet and returns them. Events another
   * fan-out is marking right now (row locked) are left out (SKIP LOCKED): an
   * event is fanned out once. The mark commits with the caller's attempts,
   * or not at all. Attempt inserts (key-share locks) do not hold it up.
   */
  async claimForFanOut(manager: EntityManager, events: Array<{ id: string; createdAt: Date }>): Promise<Array<{ id: string; type: string }>> {
    if (events.length === 0) return [];
    // the events' time span (widened by a millisecond: JavaScript dates drop PostgreSQL's microseconds)
    // lets PostgreSQL look in their days' partitions only
    let from = Infinity;
    let to = -Infinity;
    for (const e of events) {
      from = Math.min(from, e.createdAt.getTime());
      to = Math.max(to, e.createdAt.getTime());
    }
    const res = await manager.query<unknown>(
      `UPDATE webhook_events SET fanned_out_at = now()
       WHERE created_at BETWEEN $2 AND $3 AND (id, created_at) IN (
         SELECT id, created_at FROM webhook_events
         WHERE id = ANY($1::uuid[]) AND created_at BETWEEN $2 AND $3 AND fanned_out_at IS NULL
         FOR NO KEY UPDATE SKIP LOCKED)
       RETURNING id, type`,
      [events.map((e) => e.id), new Date(from - 1), new Date(to + 1)],
    );
    return returnedRows<{ id: string; type: string }>(res);
  }

  /** Ids of events not fanned out yet and at least `minAgeMs` old, oldest first. */
  async findUnfannedIds(limit: number, minAgeMs: number): Promise<string[]> {
    const rows = await this.db.query<Array<{ id: string }>>(
      `SELECT id FROM webhook_events
       WHERE fanned_out_at IS NULL AND created_at <= now() - $2::double precision * interval '1 millisecond'
       ORDER BY created_at
       LIMIT $1`,
      [limit, Math.max(0, minAgeMs)],
    );
    return rows.map((r) => r.id);
  }

  /**
   * The stored bodies of several events. Unknown ids are absent from the map.
   *
   * An id alone names no partition, so a lookup by id probes every day's primary key (on a store of 12 days, the
   * delivery path spent 0.1 ms of PostgreSQL per attempt here, issue 10's drain on a large log). The events being
   * delivered are nearly always of the last day: those partitions are searched first, and the others only for ids
   * not found there (usually none).
   */
  async bodiesFor(ids: string[]): Promise<Map<string, EventBody>> {
    const out = new Map<string, EventBody>();
    if (ids.length === 0) return out;
    const wanted = [...new Set(ids)];
    type Row = { id: string; type: string; payload: string; created_at: Date };
    const recent = await this.db.query<Row[]>(
      `SELECT id, type, payload::text AS payload, created_at FROM webhook_events WHERE id = ANY($1::uuid[]) AND created_at >= now() - interval '1 day'`,
      [wanted],
    );
    for (const row of recent) out.set(row.id, { type: row.type, payloadText: row.payload, createdAt: row.created_at });
    const rest = wanted.filter((id) => !out.has(id));
    if (rest.length) {
      const older = await this.db.query<Row[]>(
        `SELECT id, type, payload::text AS payload, created_at FROM webhook_events WHERE id = ANY($1::uuid[]) AND created_at < now() - interval '1 day'`,
        [rest],
      );
      for (const row of older) out.set(row.id, { type: row.type, payloadText: row.payload, createdAt: row.created_at });
    }
    return out;
  }

  async findById(id: string): Promise<EventView | null> {
    if (!isUuid(id)) return null;
    const rows = await this.db.query<EventRow[]>(`SELECT id, type, payload::text AS payload, created_at, fanned_out_at FROM webhook_events WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? toView(rows[0]) : null;
  }

  /** Events newest first, filtered by type and a created_at window [since, until): since inclusive, until exclusive, as everywhere. */
  async list(filter: EventListFilter): Promise<{ items: EventView[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.type !== undefined) {
      params.push(filter.type);
      where.push(`type = $${params.length}`);
    }
    if (filter.since !== undefined) {
      params.push(filter.since);
      where.push(`created_at >= $${params.length}`);
    }
    if (filter.until !== undefined) {
      params.push(filter.until);
      where.push(`created_at < $${params.length}`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [countRows, rows] = await Promise.all([
      this.db.query<Array<{ total: number }>>(`SELECT count(*)::int AS total FROM webhook_events ${clause}`, params),
      this.db.query<EventRow[]>(
        `SELECT id, type, payload::text AS payload, created_at, fanned_out_at FROM webhook_events ${clause}
         ORDER BY created_at DESC, id DESC
         LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, filter.limit, filter.offset],
      ),
    ]);
    return { items: rows.map(toView), total: countRows[0].total };
  }

  /** Creates the event store's daily partitions for `days` days from `from`'s day on (those missing); returns their names. */
  ensurePartitions(from: Date, days: number): Promise<string[]> {
    return createDailyPartitions(this.db, EVENTS_TABLE, from, days);
  }

  /**
   * Retention of the event store: drops the days that ended before `cutoff`
   * and deletes older rows of the default partition, except the days in
   * `keep` (the caller's attempts still need their events) and the days of
   * events not fanned out yet.
   */
  async dropOlderThan(cutoff: Date, keep: Date[] = []): Promise<{ partitions: string[]; rows: number }> {
    const unfanned = await this.db.query<Array<{ day: Date }>>(
      `SELECT DISTINCT date_trunc('day', created_at, 'UTC') AS day FROM ${EVENTS_TABLE} WHERE fanned_out_at IS NULL AND created_at < $1`,
      [cutoff],
    );
    const keepDays = [...keep, ...unfanned.map((r) => r.day)].map((d) => utcDay(d));
    const partitions = await dropDailyPartitionsBefore(this.db, EVENTS_TABLE, cutoff, keepDays);
    const res = await this.db.query<unknown>(
      `DELETE FROM ${EVENTS_TABLE}_default WHERE created_at < $1 AND NOT (date_trunc('day', created_at, 'UTC') = ANY($2::timestamptz[]))`,
      [cutoff, keepDays],
    );
    return { partitions, rows: affectedRows(res) };
  }

  private serialise(data: unknown): string {
    try {
      return canonicalJson(data);
    } catch (err) {
      if (err instanceof CanonicalJsonError || err instanceof RangeError) {
        throw new AppError('VALIDATION_FAILED', `The event data is not a JSON value: ${err.message}`);
      }
      throw err;
    }
  }

  private publish(payload: EventRecordedPayload): void {
    try {
      this.bus.emit(EVENT_RECORDED, payload);
    } catch (err) {
      // The event is committed; the sweeper fans it out if the listener failed.
      this.logger.warn(`A listener of ${EVENT_RECORDED} failed for event ${payload.id}: ${(err as Error).message}`);
    }
  }
}
