import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { affectedRows, returnedRows } from '../../database/query-result';
import { ClaimedAttempt } from '../attempt.types';
import { CLAIMABLE, QueueRow, toClaimed } from './queue-row';
import { Status } from '../attempt-status';
import { resultColumns } from './result-columns';
import { arrayLiteral, jsonTexts, jsonValues } from '../../database/array-literal';
import { simpleQuery, sqlIntArray, sqlInteger, sqlUuidArray } from '../../database/simple-query';
import { uuidv7 } from '../../common/uuid-v7';
import type { ExhaustedAttempt } from '../../webhooks/webhooks.service';
import { webhookVersionSql } from '../../webhooks/webhook-snapshots';
import { eventBodyLateralSql } from '../../events/event-body-sql';
import { fanOutClaim } from '../../events/fan-out-claim-sql';
import type { EventBody } from '../../events/events.types';
import type { Prefetched } from './attempt-preparer';

export type InsertedAttempt = ClaimedAttempt & { claimed: boolean };

/** An attempt to queue: a claimed attempt's fields without the id the insert gives it. */
export interface NewAttempt extends Omit<ClaimedAttempt, 'id'> {
  /** true: created already claimed by this instance (leased). */
  claimed: boolean;
  /** true: its webhook is paced (rate limit or FIFO): only the paced lane claims it. */
  paced?: boolean;
  scheduledAt?: Date;
}

/** One finished attempt as recordResults takes it (snake_case: it goes to PostgreSQL as JSON). */
export interface FinishedAttempt {
  id: string;
  success: boolean;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  request_headers: Record<string, string>;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  /** When set (epoch milliseconds), the next attempt is queued for then. */
  next_retry_ms: number | null;
  /** Epoch milliseconds: numbers cost less to serialise than Dates (toJSON) and PostgreSQL turns them back exactly. */
  started_ms: number;
  finished_ms: number;
}

export interface ClaimResult {
  attempts: ClaimedAttempt[];
  /** How many of them another instance had held until its lease ran out. */
  expiredLeases: number;
  /** What the claim read along with them, in the same statement (AttemptPreparer). */
  prefetched: Prefetched;
}

/** A claimed queue row, with its webhook's version and (on one row per event) its event's body. */
type ClaimedRow = QueueRow & { was_leased: boolean; webhook_version: string | null; event_payload: string | null; event_at: Date | null };

/**
 * The delivery queue (`delivery_queue`): attempts still to be sent. A claim
 * sets a lease (`locked_until`) on due rows with FOR UPDATE SKIP LOCKED, so
 * any number of instances share it; when an attempt ends, its row leaves
 * the queue for the attempt log (ResultWriter).
 */
@Injectable()
export class AttemptStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Inserts attempts in one statement; claimed ones get a lease of `leaseMs`.
   * Their ids are made here (time-ordered, as the column's default makes
   * them), so nothing needs to come back: the statement returns no rows and
   * the driver parses none.
   */
  async insert(manager: EntityManager, rows: NewAttempt[], leaseMs: number): Promise<InsertedAttempt[]> {
    if (rows.length === 0) return [];
    const { inserted, sql, params } = insertion(rows, leaseMs);
    await manager.query(sql, params);
    return inserted;
  }

  /**
   * A fan-out's write, one statement (one round trip, no transaction of its
   * own): the events' claim (`fanOutClaim`, from the events module), and the
   * attempts of the events it claimed. Events another fan-out holds (or
   * already did) are left out, with their attempts. Returns the attempts
   * inserted.
   */
  async insertForClaimedEvents(rows: NewAttempt[], leaseMs: number, events: Array<{ id: string; createdAt: Date }>): Promise<InsertedAttempt[]> {
    if (rows.length === 0) return [];
    const { inserted, sql, params } = insertion(rows, leaseMs, 'x.e IN (SELECT id FROM claimed)');
    const claim = fanOutClaim(events, params.length + 1);
    const claimed = returnedRows<{ id: string }>(
      await this.db.query<unknown>(`WITH claimed AS (${claim.sql}), queued AS (${sql}) SELECT id FROM claimed`, [...params, ...claim.params]),
    );
    const ids = new Set(claimed.map((e) => e.id));
    return inserted.filter((a) => ids.has(a.eventId));
  }

  /**
   * Claims up to `limit` due attempts, oldest first, taking from each webhook
   * no more than its room on this instance: `perWebhook`'s number for the
   * webhooks listed, `otherWebhooks` for the rest (so a big backlog stays
   * queued instead of being claimed and handed back, and a webhook with no
   * room is left out). The window looks at the oldest `limit * 2` due rows
   * of those webhooks; rows another instance claimed meanwhile are skipped
   * (SKIP LOCKED, and claimability is checked again after the lock). Only
   * the lease columns change, so the update can stay on its page (HOT).
   * `excluded` webhooks (the paced ones: PacingStore claims theirs) are left out.
   */
  async claimDue(limit: number, leaseMs: number, perWebhook: Map<string, number>, otherWebhooks: number, excluded: string[] = []): Promise<ClaimResult> {
    if (limit <= 0) return { attempts: [], expiredLeases: 0, prefetched: { bodies: new Map(), webhookVersions: new Map() } };
    const full = [...perWebhook]
      .filter(([, n]) => n <= 0)
      .map(([id]) => id)
      .concat(excluded);
    const partial = [...perWebhook].filter(([, n]) => n > 0);
    // the queue's statistics lag behind a burst; on them the planner would fetch every due row in a
    // bitmap scan, or read the whole queue sequentially (seen: 145 ms for a claim behind a backlog of
    // 70,000), and sort them, instead of reading the due index in order up to the limit. Every table
    // here is read by index. SET LOCAL and the claim go together in one round trip (simpleQuery):
    // one implicit transaction.
    const [, , claim] = await simpleQuery(
      this.db,
      `SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off;
       WITH picked AS (
         SELECT id, locked_until IS NOT NULL AS was_leased FROM delivery_queue
         WHERE id IN (
           SELECT ranked.id FROM (
             SELECT id, webhook_id, scheduled_at, row_number() OVER (PARTITION BY webhook_id ORDER BY scheduled_at) AS nth
             FROM (
               SELECT id, webhook_id, scheduled_at FROM delivery_queue
               WHERE scheduled_at <= now() AND ${CLAIMABLE} AND NOT paced AND NOT (webhook_id = ANY(${sqlUuidArray(full)}))
               ORDER BY scheduled_at
               LIMIT ${sqlInteger(limit * 2)}
             ) AS due
           ) AS ranked
           LEFT JOIN unnest(${sqlUuidArray(partial.map(([id]) => id))}, ${sqlIntArray(partial.map(([, n]) => n))}) AS b(webhook_id, room)
             ON b.webhook_id = ranked.webhook_id
           WHERE ranked.nth <= COALESCE(b.room, ${sqlInteger(otherWebhooks)})
           ORDER BY ranked.scheduled_at
           LIMIT ${sqlInteger(limit)})
         AND ${CLAIMABLE}
         FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE delivery_queue q SET locked_until = now() + make_interval(secs => ${sqlInteger(Math.round(leaseMs))}::double precision / 1000), started_at = now()
         FROM picked p WHERE q.id = p.id
         RETURNING q.id, q.webhook_id, q.event_id, q.event_created_at, q.event_type, q.attempt, q.trigger, p.was_leased)
       SELECT c.id, c.webhook_id, c.event_id, c.event_created_at, c.event_type, c.attempt, c.trigger, c.was_leased,
              ${webhookVersionSql('c.webhook_id')} AS webhook_version, ev.event_payload, ev.event_at
       FROM (SELECT *, row_number() OVER (PARTITION BY event_id) AS nth FROM claimed) c
       LEFT JOIN ${eventBodyLateralSql('c.event_id', 'c.event_created_at', 'c.nth = 1')} ev ON true`,
    );
    const claimed = claim.rows as ClaimedRow[];
    const bodies = new Map<string, EventBody>();
    const webhookVersions = new Map<string, string | null>();
    for (const r of claimed) {
      if (r.event_payload !== null) bodies.set(r.event_id, { type: r.event_type, payloadText: r.event_payload, createdAt: r.event_at! });
      webhookVersions.set(r.webhook_id, r.webhook_version);
    }
    return { attempts: claimed.map(toClaimed), expiredLeases: claimed.filter((r) => r.was_leased).length, prefetched: { bodies, webhookVersions } };
  }

  /**
   * Ends attempts, in one statement: their queue rows (only those still
   * leased) move to the log with their results, and the retries they
   * scheduled are queued. Returns the event deliveries that failed with no
   * retry left (each once: only the call that moved its row sees it).
   *
   * The batch goes as eleven parameters, one per column (`resultColumns`):
   * ids, numbers and booleans as array literals, which need no escaping, and
   * the texts and header objects as JSON arrays, which `JSON.stringify`
   * writes in native code. PostgreSQL reads these several times faster than
   * one JSON array of objects through `json_to_recordset`, which builds a
   * hash table for every object (500 results: about 7 against 24 µs a
   * result, docs/engine.md). Every later step reads the DELETE's RETURNING,
   * never joins back to the batch: a join there was planned as a nested
   * loop over the whole batch for every row (about 40 µs a result).
   */
  async recordResults(results: FinishedAttempt[]): Promise<ExhaustedAttempt[]> {
    if (results.length === 0) return [];
    const rows: unknown = await this.db.query(
      `WITH v AS (
         SELECT * FROM unnest($1::uuid[], $2::bool[], $3::int[], $4::int[], ${jsonTexts(5)}, ${jsonValues(6)}, ${jsonValues(7)}, ${jsonTexts(8)},
                              $9::float8[], $10::float8[], $11::float8[])
           AS v(id, success, status_code, duration_ms, error, request_headers, response_headers, response_body, next_retry_ms, started_ms, finished_ms)
       ), done AS (
         DELETE FROM delivery_queue q USING v WHERE q.id = v.id AND q.locked_until IS NOT NULL
         RETURNING q.id, q.webhook_id, q.event_id, q.event_created_at, q.event_type, q.attempt, q.trigger, q.scheduled_at, q.created_at, q.paced,
                   v.success, v.status_code, v.duration_ms, v.error, v.request_headers,
                   CASE WHEN json_typeof(v.response_headers) <> 'null' THEN v.response_headers END AS response_headers, v.response_body,
                   to_timestamp(v.next_retry_ms / 1000) AS next_retry_at, to_timestamp(v.started_ms / 1000) AS started_at,
                   to_timestamp(v.finished_ms / 1000) AS finished_at
       ), logged AS (
         INSERT INTO webhook_logs (id, webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, status_code,
                                   duration_ms, error, request_headers, response_headers, response_body, next_retry_at, created_at, started_at, finished_at)
         SELECT id, webhook_id, event_id, event_created_at, event_type, attempt, trigger,
                CASE WHEN success THEN '${Status.Succeeded}' ELSE '${Status.Failed}' END, success, scheduled_at, status_code,
                duration_ms, error, request_headers, response_headers, response_body, next_retry_at, created_at, started_at, finished_at
         FROM done
       ), retried AS (
         INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, paced)
         SELECT webhook_id, event_id, event_created_at, event_type, attempt + 1, trigger, next_retry_at, paced
         FROM done WHERE next_retry_at IS NOT NULL
       )
       SELECT webhook_id, event_id, event_type, attempt, error, status_code
       FROM done
       WHERE NOT success AND next_retry_at IS NULL AND trigger = 'event'`,
      resultColumns(results),
    );
    return returnedRows<{ webhook_id: string; event_id: string; event_type: string; attempt: number; error: string | null; status_code: number | null }>(
      rows,
    ).map((r) => ({ webhookId: r.webhook_id, eventId: r.event_id, eventType: r.event_type, attempt: r.attempt, error: r.error, statusCode: r.status_code }));
  }

  /**
   * Marks a webhook's queued attempts as paced or not (its rate limit or
   * ordering changed): from then on only the paced lane, or only the claim
   * loop, claims them, on every instance.
   */
  async setPaced(webhookId: string, paced: boolean): Promise<void> {
    await this.db.query(`UPDATE delivery_queue SET paced = $2 WHERE webhook_id = $1 AND paced <> $2`, [webhookId, paced]);
  }

  /**
   * Deletes a webhook's whole attempt log, in the transaction that deletes
   * the webhook (after its row and, by the queue's foreign key cascade, its
   * queued attempts: a result write still holding one of those finished
   * first, and its log row is seen here; one that had not yet reached it
   * finds the queue row gone and logs nothing).
   */
  async deleteLogOf(manager: EntityManager, webhookId: string): Promise<void> {
    await manager.query(`DELETE FROM webhook_logs WHERE webhook_id = $1`, [webhookId]);
  }

  /** Gives claimed attempts back to the queue (shutdown, a webhook gone, or waited too long for a slot). */
  async release(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE delivery_queue SET locked_until = NULL, started_at = NULL WHERE id = ANY($1::uuid[]) AND locked_until IS NOT NULL`, [ids]);
  }

  /**
   * Cancels every attempt of a webhook still waiting in the queue (it was
   * disabled): they move to the log as `cancelled`, recording why:
   * `cancelled: webhook disabled (<the webhook's disabled_reason>)`. Attempts
   * being sent right now finish.
   */
  async cancelPending(webhookId: string, disabledReason: string | null): Promise<number> {
    return this.cancelWhere(`webhook_id = $1 AND ${CLAIMABLE}`, webhookId, `cancelled: webhook disabled (${disabledReason ?? 'by an operator'})`);
  }

  /** Cancels attempts this instance holds and will not send (their event is gone), recording `error`. */
  async cancelClaimed(ids: string[], error: string): Promise<number> {
    if (ids.length === 0) return 0;
    return this.cancelWhere(`id = ANY($1::uuid[]) AND locked_until IS NOT NULL`, ids, error);
  }

  private async cancelWhere(where: string, param: unknown, error: string): Promise<number> {
    const res: unknown = await this.db.query(
      `WITH c AS (DELETE FROM delivery_queue WHERE ${where} RETURNING *)
       INSERT INTO webhook_logs (id, webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, error, created_at, finished_at)
       SELECT id, webhook_id, event_id, event_created_at, event_type, attempt, trigger, '${Status.Cancelled}', false, scheduled_at, $2, created_at, now() FROM c`,
      [param, error],
    );
    return affectedRows(res);
  }

  /** The UTC days, before `cutoff`, of events that queued attempts still need (retention keeps those days). */
  async queuedEventDaysBefore(cutoff: Date): Promise<Date[]> {
    const rows = await this.db.query<Array<{ day: Date }>>(
      `SELECT DISTINCT date_trunc('day', event_created_at, 'UTC') AS day FROM delivery_queue WHERE event_created_at < $1`,
      [cutoff],
    );
    return rows.map((r) => r.day);
  }

  /** The next attempt number for an event at a webhook (redeliver). */
  async nextAttemptNumber(manager: EntityManager, webhookId: string, eventId: string): Promise<number> {
    const [row] = await manager.query<Array<{ n: string }>>(
      `SELECT COALESCE(max(attempt), 0) + 1 AS n FROM webhook_attempts WHERE webhook_id = $1 AND event_id = $2`,
      [webhookId, eventId],
    );
    return Number(row.n);
  }

  /**
   * Queues one new attempt (trigger `recover`) for every event attempted at
   * this webhook since `since` that never succeeded and has nothing queued,
   * oldest first, at most `limit`; returns how many.
   */
  async queueRecovery(webhookId: string, since: Date, limit: number, paced: boolean): Promise<number> {
    const res: unknown = await this.db.query(
      `INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, paced)
       SELECT $1, event_id, max(event_created_at), max(event_type), max(attempt) + 1, 'recover', now(), $4
       FROM webhook_attempts
       WHERE webhook_id = $1 AND created_at >= $2
       GROUP BY event_id
       HAVING NOT bool_or(status IN ('${Status.Succeeded}', '${Status.Pending}', '${Status.Sending}'))
       ORDER BY min(created_at)
       LIMIT $3
       RETURNING id`,
      [webhookId, since, limit, paced],
    );
    return returnedRows(res).length;
  }

  /**
   * Queues a first attempt (trigger `replay`) for those of the given events,
   * in order, that have no attempt at this webhook yet, at most `limit`;
   * returns the ids of the events queued. Replays of one webhook take turns
   * (an advisory lock for the transaction), so two calls do not both queue
   * an event.
   */
  async queueReplay(webhookId: string, events: Array<{ id: string; createdAt: Date; type: string }>, limit: number, paced: boolean): Promise<string[]> {
    if (events.length === 0 || limit <= 0) return [];
    return this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('atlas-replay:' || $1::text))`, [webhookId]);
      const res: unknown = await m.query(
        `INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, paced)
         SELECT $1, x.e, x.ec, x.t, 1, 'replay', now(), $6
         FROM unnest($2::uuid[], $3::timestamptz[], $4::text[]) WITH ORDINALITY AS x(e, ec, t, n)
         WHERE NOT EXISTS (SELECT 1 FROM webhook_logs l WHERE l.event_id = x.e AND l.webhook_id = $1)
           AND NOT EXISTS (SELECT 1 FROM delivery_queue q WHERE q.event_id = x.e AND q.webhook_id = $1)
         ORDER BY x.n
         LIMIT $5
         RETURNING event_id`,
        [webhookId, events.map((e) => e.id), events.map((e) => e.createdAt), events.map((e) => e.type), limit, paced],
      );
      return returnedRows<{ event_id: string }>(res).map((r) => r.event_id);
    });
  }

  /**
   * The bulk retry after an outage: one new attempt (trigger `retry`) per
   * (webhook, event) with a failed attempt created in [since, until) (of
   * `eventType` when given) among `webhookIds`, when no attempt of that
   * event at that webhook ever succeeded and none is queued or in flight;
   * oldest first, at most `limit`. Calls take turns (an advisory lock), so
   * two do not both queue one. Returns how many were queued. Attempts for
   * `pacedIds` are queued for the paced lane.
   */
  async queueRetryOfFailed(since: Date, until: Date, eventType: string | null, webhookIds: string[], limit: number, pacedIds: string[]): Promise<number> {
    if (webhookIds.length === 0 || limit <= 0) return 0;
    return this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('atlas-retry-failed'))`);
      const res: unknown = await m.query(
        `WITH failed AS (
           SELECT DISTINCT webhook_id, event_id FROM webhook_logs
           WHERE status = '${Status.Failed}' AND created_at >= $1 AND created_at < $2 AND ($3::text IS NULL OR event_type = $3)
             AND event_type <> 'webhook.test' AND webhook_id = ANY($4::uuid[])
         )
         INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, paced)
         SELECT a.webhook_id, a.event_id, max(a.event_created_at), max(a.event_type), max(a.attempt) + 1, 'retry', now(), a.webhook_id = ANY($6::uuid[])
         FROM webhook_attempts a JOIN failed f ON f.webhook_id = a.webhook_id AND f.event_id = a.event_id
         GROUP BY a.webhook_id, a.event_id
         HAVING NOT bool_or(a.status IN ('${Status.Succeeded}', '${Status.Pending}', '${Status.Sending}'))
         ORDER BY min(a.created_at)
         LIMIT $5
         RETURNING id`,
        [since, until, eventType, webhookIds, limit, pacedIds],
      );
      return returnedRows(res).length;
    });
  }
}

/**
 * The INSERT of `rows` into the queue (with `where`, over `x`, the unnested
 * rows: only those for which it holds), its eleven parameters, and the
 * attempts as they will be (ids made here).
 */
function insertion(rows: NewAttempt[], leaseMs: number, where?: string): { inserted: InsertedAttempt[]; sql: string; params: unknown[] } {
  const inserted = rows.map((r): InsertedAttempt => ({
    id: uuidv7(),
    webhookId: r.webhookId,
    eventId: r.eventId,
    eventCreatedAt: r.eventCreatedAt,
    eventType: r.eventType,
    attempt: r.attempt,
    trigger: r.trigger,
    claimed: r.claimed,
  }));
  const sql = `INSERT INTO delivery_queue (id, webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, locked_until, started_at, paced)
       SELECT id, w, e, ec, t, a, tr, COALESCE(s, now()),
              CASE WHEN c THEN now() + make_interval(secs => $10::double precision / 1000) END,
              CASE WHEN c THEN now() END, p
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::text[], $6::int[], $7::text[], $8::bool[], $9::timestamptz[], $11::bool[])
         AS x(id, w, e, ec, t, a, tr, c, s, p)${
           where
             ? `
       WHERE ${where}`
             : ''
         }`;
  const params = [
    arrayLiteral(inserted.map((r) => r.id)),
    arrayLiteral(rows.map((r) => r.webhookId)),
    arrayLiteral(rows.map((r) => r.eventId)),
    arrayLiteral(rows.map((r) => r.eventCreatedAt)),
    arrayLiteral(rows.map((r) => r.eventType)),
    arrayLiteral(rows.map((r) => r.attempt)),
    arrayLiteral(rows.map((r) => r.trigger)),
    arrayLiteral(rows.map((r) => r.claimed)),
    arrayLiteral(rows.map((r) => r.scheduledAt ?? null)),
    leaseMs,
    arrayLiteral(rows.map((r) => r.paced ?? false)),
  ];
  return { inserted, sql, params };
}
