import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { uuidv7 } from '../common/uuid-v7';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../common/app-error';
import { canonicalJson, CanonicalJsonError } from '../common/canonical-json';
import { isUuid } from '../common/uuid';
import { MicroBatcher } from '../common/micro-batcher';
import { AppConfig } from '../config/app-config';
import { createDailyPartitions, dropDailyPartitionsBefore, utcDay } from '../database/daily-partitions';
import { affectedRows, returnedRows } from '../database/query-result';
import { arrayLiteral, jsonTexts } from '../database/array-literal';
import { fanOutClaim } from './fan-out-claim-sql';
import { EVENT_RECORDED, EventRecordedPayload } from './event-bus';
import { claimKeys, parseIdempotencyKey, requestHash } from './idempotency';
import { Catalogue, EventTypesService } from './event-types.service';
import { encodeCursor } from './event-search';
import { EmitOptions, EventBody, EventListFilter, EventPage, EventView, RecordedEvent } from './events.types';

const EVENTS_TABLE = 'webhook_events';
/** Most events one group-committed insert takes. */
const INSERT_BATCH = 256;
/** How often expired idempotency keys are deleted, and how many one statement deletes. */
const KEY_CLEANUP_EVERY_MS = 5 * 60_000;
const KEY_CLEANUP_SLICE = 5000;
/** GET /api/events counts matching events up to this many (then `total_capped`). */
export const EVENT_COUNT_CAP = 10_000;
/** Searches by data field look back in windows of 1 h, then 4 h, 16 h, … */
const SEARCH_FIRST_WINDOW_MS = 3_600_000;
const SEARCH_WINDOW_GROWTH = 4;

type SearchRow = EventRow & { cursor_at: string };
const clause = (w: string[]) => (w.length ? `WHERE ${w.join(' AND ')}` : '');

function idempotencyConflict(claim: string): AppError {
  const message = claim.startsWith('id:')
    ? `An event with id ${claim.slice(3)} already exists with a different type or data`
    : `Idempotency-Key "${claim.slice(4, 104)}" was already used for a request with a different type, data or id`;
  return new AppError('IDEMPOTENCY_CONFLICT', message);
}

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
export class EventsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EventsService.name);
  private cleanupTimer: NodeJS.Timeout | null = null;
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
    private readonly types: EventTypesService,
  ) {}

  /** The catalogue as this instance sees it (built-in and admin-added types; at most a second old). */
  catalogue(): Promise<Catalogue> {
    return this.types.catalogue();
  }

  /**
   * What webhooks may subscribe to: every type but test deliveries, and their
   * categories. Read afresh (not from the short cache) so that a type just
   * added on another instance can be subscribed to at once.
   */
  async subscribable(): Promise<{ types: string[]; categories: string[] }> {
    return (await this.types.catalogue(0)).subscribable();
  }

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
    const entry = typeof type === 'string' ? await this.types.lookup(type) : undefined;
    if (!entry) {
      throw new AppError('UNKNOWN_EVENT_TYPE', `Unknown event type "${String(type).slice(0, 100)}"; valid types: ${(await this.types.catalogue()).names()}`);
    }
    const value = data === undefined ? {} : data;
    const text = this.serialise(value);
    const limit = this.config.get('WEBHOOK_MAX_PAYLOAD_BYTES');
    const size = Buffer.byteLength(text, 'utf8');
    if (size > limit) {
      throw new AppError('PAYLOAD_TOO_LARGE', `The event data is ${size} bytes as JSON, more than the limit of ${limit} bytes (WEBHOOK_MAX_PAYLOAD_BYTES)`);
    }
    this.types.enforce(entry, value);
    const recorded = await this.record(type, text, options);
    if (entry.deprecated) recorded.deprecated = true;
    return recorded;
  }

  private async record(type: string, text: string, options: EmitOptions): Promise<RecordedEvent> {
    const fanOut = options.fanOut !== false;
    if (options.idempotencyKey !== undefined || options.id !== undefined) {
      const recorded = await this.emitIdempotent(type, text, fanOut, options);
      if (!recorded.replayed && !options.manager && fanOut) {
        this.publish({ id: recorded.id, type, body: { type, payloadText: text, createdAt: recorded.createdAt } });
      }
      return recorded;
    }
    const id = uuidv7();
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

  /**
   * The emit with an idempotency key and/or a client-supplied id, one
   * transaction (or a savepoint in the caller's): claim each key row (the
   * primary key decides a race: the loser waits for the winner's commit and
   * then sees its row), then insert the event. A key already held by a live
   * row: the same request hash replays the stored event, another is a 409.
   */
  private async emitIdempotent(type: string, text: string, fanOut: boolean, options: EmitOptions): Promise<RecordedEvent> {
    const key = options.idempotencyKey === undefined ? undefined : parseIdempotencyKey(options.idempotencyKey);
    let clientId: string | undefined;
    if (options.id !== undefined) {
      if (typeof options.id !== 'string' || !isUuid(options.id)) throw new AppError('VALIDATION_FAILED', 'id must be a UUID');
      clientId = options.id.toLowerCase();
    }
    const hash = requestHash(type, text, clientId);
    const id = clientId ?? uuidv7();
    const work = async (m: EntityManager): Promise<RecordedEvent> => {
      let createdAt: Date | null = null;
      for (const claim of claimKeys(key, clientId)) {
        const rows: Array<{ event_created_at: Date }> = await m.query(
          `INSERT INTO event_idempotency_keys (key, request_hash, event_id, event_created_at, expires_at)
           VALUES ($1, $2, $3, COALESCE($4::timestamptz, clock_timestamp()), now() + $5::double precision * interval '1 millisecond')
           ON CONFLICT (key) DO UPDATE SET request_hash = EXCLUDED.request_hash, event_id = EXCLUDED.event_id,
             event_created_at = EXCLUDED.event_created_at, expires_at = EXCLUDED.expires_at
           WHERE event_idempotency_keys.expires_at <= now()
           RETURNING event_created_at`,
          [claim, hash, id, createdAt, this.config.get('EVENT_IDEMPOTENCY_TTL_MS')],
        );
        if (rows.length > 0) {
          createdAt = rows[0].event_created_at;
          continue;
        }
        const [held] = await m.query<Array<{ request_hash: string; event_id: string; event_created_at: Date }>>(
          `SELECT request_hash, event_id, event_created_at FROM event_idempotency_keys WHERE key = $1`,
          [claim],
        );
        if (!held) throw new AppError('CONFLICT', 'The idempotency key was released while this request ran; send it again');
        if (held.request_hash !== hash) throw idempotencyConflict(claim);
        return { id: held.event_id, type, createdAt: held.event_created_at, replayed: true };
      }
      if (clientId !== undefined) {
        // an event with this id older than the key's lifetime
        const [old] = await m.query<Array<{ type: string; payload: string; created_at: Date }>>(
          `SELECT type, payload::text AS payload, created_at FROM webhook_events WHERE id = $1`,
          [clientId],
        );
        if (old) {
          if (old.type !== type || old.payload !== text) throw idempotencyConflict(`id:${clientId}`);
          return { id: clientId, type, createdAt: old.created_at, replayed: true };
        }
      }
      await m.query(
        `INSERT INTO webhook_events (id, type, payload, fanned_out_at, created_at)
         VALUES ($1, $2, $3::json, CASE WHEN $4::boolean THEN NULL ELSE now() END, $5)`,
        [id, type, text, fanOut, createdAt],
      );
      return { id, type, createdAt: createdAt! };
    };
    return options.manager ? this.inSavepoint(options.manager, work) : this.inTransaction(work);
  }

  /** Runs `work` in a transaction of its own; a replay (nothing to keep) rolls back. */
  private async inTransaction(work: (m: EntityManager) => Promise<RecordedEvent>): Promise<RecordedEvent> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      try {
        const result = await work(runner.manager);
        if (result.replayed) await runner.rollbackTransaction();
        else await runner.commitTransaction();
        return result;
      } catch (err) {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        throw err;
      }
    } finally {
      await runner.release();
    }
  }

  /** Runs `work` inside the caller's transaction, behind a savepoint that a replay or an error rolls back. */
  private async inSavepoint(manager: EntityManager, work: (m: EntityManager) => Promise<RecordedEvent>): Promise<RecordedEvent> {
    await manager.query('SAVEPOINT atlas_emit');
    try {
      const result = await work(manager);
      await manager.query(result.replayed ? 'ROLLBACK TO SAVEPOINT atlas_emit' : 'RELEASE SAVEPOINT atlas_emit');
      return result;
    } catch (err) {
      await manager.query('ROLLBACK TO SAVEPOINT atlas_emit');
      throw err;
    }
  }

  /** Deletes idempotency keys past their expiry (in slices, so no statement runs long); returns how many. */
  async deleteExpiredIdempotencyKeys(): Promise<number> {
    let total = 0;
    for (;;) {
      const res = await this.db.query<unknown>(
        `DELETE FROM event_idempotency_keys WHERE key IN (SELECT key FROM event_idempotency_keys WHERE expires_at <= now() LIMIT $1)`,
        [KEY_CLEANUP_SLICE],
      );
      const n = affectedRows(res);
      total += n;
      if (n < KEY_CLEANUP_SLICE) return total;
    }
  }

  onApplicationBootstrap(): void {
    this.cleanupTimer = setInterval(() => {
      this.deleteExpiredIdempotencyKeys().catch((err: Error) => this.logger.warn(`Deleting expired idempotency keys failed: ${err.message}`));
    }, KEY_CLEANUP_EVERY_MS);
    this.cleanupTimer.unref();
  }

  beforeApplicationShutdown(): void {
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = null;
  }

  /** One statement for a batch of emits (clock_timestamp(): each row gets its own time, not the statement's). */
  private async insertBatch(batch: PendingInsert[]): Promise<void> {
    try {
      const rows = await this.db.query<Array<{ id: string; created_at: Date }>>(
        `INSERT INTO webhook_events (id, type, payload, fanned_out_at, created_at)
         SELECT id, type, payload::json, CASE WHEN fan_out THEN NULL ELSE now() END, clock_timestamp()
         FROM unnest($1::uuid[], $2::text[], ${jsonTexts(3)}, $4::boolean[]) WITH ORDINALITY AS x(id, type, payload, fan_out, n)
         ORDER BY n
         RETURNING id, created_at`,
        // array literals and a JSON array of the texts: the driver would quote and escape every element with regular expressions
        [
          arrayLiteral(batch.map((b) => b.id)),
          arrayLiteral(batch.map((b) => b.type)),
          JSON.stringify(batch.map((b) => b.text)),
          arrayLiteral(batch.map((b) => b.fanOut)),
        ],
      );
      const at = new Map(rows.map((r) => [r.id, r.created_at]));
      for (const b of batch) b.resolve(at.get(b.id)!);
    } catch (err) {
      for (const b of batch) b.reject(err as Error);
    }
  }

  /**
   * Claims events for a fan-out, inside the caller's transaction: marks
   * those of `events` not fanned out yet and returns them (`fanOutClaim`).
   * Attempt inserts (key-share locks) do not hold it up.
   */
  async claimForFanOut(manager: EntityManager, events: Array<{ id: string; createdAt: Date }>): Promise<Array<{ id: string; type: string }>> {
    if (events.length === 0) return [];
    const claim = fanOutClaim(events);
    return returnedRows<{ id: string; type: string }>(await manager.query<unknown>(claim.sql, claim.params));
  }

  /** When the oldest event not fanned out yet was recorded (null: none); FIFO webhooks send nothing recorded after it. */
  async oldestUnfannedAt(): Promise<Date | null> {
    const [row] = await this.db.query<Array<{ at: Date | null }>>(`SELECT min(created_at) AS at FROM webhook_events WHERE fanned_out_at IS NULL`);
    return row?.at ?? null;
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

  /**
   * A page of the events of `types` recorded in [since, until) and fanned
   * out already, oldest first, after the cursor (the last page's last
   * event): what an endpoint may have missed (replay). Events still being
   * fanned out are left out: their fan-out decides.
   */
  async fannedOutInRange(query: {
    types: string[];
    since: Date;
    until: Date;
    /** The `cursor` of the last event of the previous page. */
    after?: string;
    limit: number;
  }): Promise<Array<EventBody & { id: string; cursor: string }>> {
    if (query.types.length === 0 || query.limit <= 0) return [];
    const [afterAt, afterId] = query.after ? (JSON.parse(query.after) as [string, string]) : [null, null];
    // the cursor keeps created_at as PostgreSQL's text (microseconds; a JavaScript date would drop them)
    const rows = await this.db.query<Array<{ id: string; type: string; payload: string; created_at: Date; at: string }>>(
      `SELECT id, type, payload::text AS payload, created_at, created_at::text AS at FROM webhook_events
       WHERE type = ANY($1::text[]) AND created_at >= $2 AND created_at < $3 AND fanned_out_at IS NOT NULL
         AND ($4::timestamptz IS NULL OR (created_at, id) > ($4::timestamptz, $5::uuid))
       ORDER BY created_at, id
       LIMIT $6`,
      [query.types, query.since, query.until, afterAt, afterId, query.limit],
    );
    return rows.map((r) => ({ id: r.id, type: r.type, payloadText: r.payload, createdAt: r.created_at, cursor: JSON.stringify([r.at, r.id]) }));
  }

  async findById(id: string): Promise<EventView | null> {
    if (!isUuid(id)) return null;
    const rows = await this.db.query<EventRow[]>(`SELECT id, type, payload::text AS payload, created_at, fanned_out_at FROM webhook_events WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? (await this.flagDeprecated([toView(rows[0])]))[0] : null;
  }

  /** Marks the events whose type is deprecated (`deprecated: true`). */
  private async flagDeprecated(views: EventView[]): Promise<EventView[]> {
    const catalogue = await this.types.catalogue();
    for (const v of views) if (catalogue.get(v.type)?.deprecated) v.deprecated = true;
    return views;
  }

  /**
   * Events newest first (created_at, then id, descending), filtered by types, a
   * created_at window [since, until) and fields of the data (containment on
   * the GIN-indexed `webhook_event_data(payload)`), paged by offset or by a
   * keyset cursor. `total` is counted (up to EVENT_COUNT_CAP) only when asked.
   */
  async list(filter: EventListFilter): Promise<EventPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.types !== undefined) {
      where.push(filter.types.length === 1 ? `type = ${param(filter.types[0])}` : `type = ANY(${param(filter.types)}::text[])`);
    }
    if (filter.since !== undefined) where.push(`created_at >= ${param(filter.since)}`);
    if (filter.until !== undefined) where.push(`created_at < ${param(filter.until)}`);
    for (const f of filter.data ?? []) {
      where.push(`(${f.contains.map((c) => `webhook_event_data(payload) @> ${param(JSON.stringify(c))}::jsonb`).join(' OR ')})`);
    }
    const count =
      filter.count &&
      this.db.query<Array<{ total: number }>>(
        `SELECT count(*)::int AS total FROM (SELECT 1 FROM webhook_events ${clause(where)} LIMIT ${EVENT_COUNT_CAP + 1}) counted`,
        [...params],
      );
    if (filter.cursor) {
      const at = param(filter.cursor.at);
      where.push(`created_at <= ${at}::timestamptz AND (created_at, id) < (${at}::timestamptz, ${param(filter.cursor.id)}::uuid)`);
    }
    const select = (w: string[], p: unknown[], limit: number, offset: number) =>
      this.db.query<SearchRow[]>(
        `SELECT id, type, payload::text AS payload, created_at, fanned_out_at,
                to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
         FROM webhook_events ${clause(w)}
         ORDER BY created_at DESC, id DESC
         LIMIT ${limit} OFFSET ${offset}`,
        p,
      );
    const rows =
      filter.data?.length && filter.offset === 0
        ? await this.searchByWindows(filter, where, params, select)
        : await select(where, params, filter.limit + 1, filter.offset);
    const more = rows.length > filter.limit;
    const page = more ? rows.slice(0, filter.limit) : rows;
    const last = page[page.length - 1];
    const counted = count ? (await count)[0].total : null;
    return {
      items: await this.flagDeprecated(page.map(toView)),
      total: counted === null ? null : Math.min(counted, EVENT_COUNT_CAP),
      totalCapped: counted !== null && counted > EVENT_COUNT_CAP,
      nextCursor: more && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
    };
  }

  /**
   * A search by data field, newest first, in time windows that grow going back
   * (1 h, 4 h, 16 h, … before the upper bound), each its own query, until the
   * page is full or history ends. The data index (GIN) gives no order: over
   * the whole table PostgreSQL would fetch and sort every match of a common
   * value (tens of thousands at 1 M events) to return 50. Within a window it
   * fetches that window's matches only (its days' partitions alone), and a
   * common value fills the page in the first, small window.
   */
  private async searchByWindows(
    filter: EventListFilter,
    where: string[],
    params: unknown[],
    select: (w: string[], p: unknown[], limit: number, offset: number) => Promise<SearchRow[]>,
  ): Promise<SearchRow[]> {
    const want = filter.limit + 1;
    const bounds = [filter.until?.getTime(), filter.cursor ? Date.parse(filter.cursor.at) + 1 : undefined].filter((v): v is number => v !== undefined);
    let upper: number | null = null;
    let end = bounds.length ? Math.min(...bounds) : Date.now() + 60_000;
    const [{ oldest }] = await this.db.query<Array<{ oldest: Date | null }>>(`SELECT min(created_at) AS oldest FROM webhook_events`);
    const floor = Math.max(oldest ? oldest.getTime() : end, filter.since?.getTime() ?? -Infinity);
    const out: SearchRow[] = [];
    for (let span = SEARCH_FIRST_WINDOW_MS; out.length < want; span *= SEARCH_WINDOW_GROWTH) {
      const start = end - span;
      const w = [...where];
      const p = [...params];
      const last = start <= floor;
      if (!last) {
        p.push(new Date(start));
        w.push(`created_at >= $${p.length}`);
      }
      if (upper !== null) {
        p.push(new Date(upper));
        w.push(`created_at < $${p.length}`);
      }
      out.push(...(await select(w, p, want - out.length, 0)));
      if (last) break;
      upper = start;
      end = start;
    }
    return out;
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
