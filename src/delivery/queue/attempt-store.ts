import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { affectedRows, returnedRows } from '../../database/query-result';
import { ClaimedAttempt } from '../attempt.types';
import type { AttemptTrigger } from '../attempt.entity';
import { Status } from '../attempt-status';

interface AttemptRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  trigger: AttemptTrigger;
  status?: string;
}

function toClaimed(r: AttemptRow): ClaimedAttempt {
  return { id: r.id, webhookId: r.webhook_id, eventId: r.event_id, eventType: r.event_type, attempt: r.attempt, trigger: r.trigger };
}

const RETURNING = 'RETURNING id, webhook_id, event_id, event_type, attempt, trigger';

export type InsertedAttempt = ClaimedAttempt & { claimed: boolean };

export interface NewAttempt {
  webhookId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  trigger: AttemptTrigger;
  /** true: created already claimed by this instance (status sending, leased). */
  claimed: boolean;
  scheduledAt?: Date;
}

/**
 * The SQL of the delivery queue: `webhook_logs` rows in `pending` are the
 * queue; a claim moves them to `sending` with a lease (`locked_until`), using
 * FOR UPDATE SKIP LOCKED so any number of instances can share the table.
 */
@Injectable()
export class AttemptStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Inserts attempts in one statement; claimed ones get a lease of `leaseMs`. */
  insert(manager: EntityManager, rows: NewAttempt[], leaseMs: number): Promise<InsertedAttempt[]> {
    if (rows.length === 0) return Promise.resolve([]);
    return this.insertRows(manager, '', '', rows, [leaseMs]);
  }

  /**
   * The attempts of a fan-out, in one statement. The first attempt of an
   * event at a webhook is unique (uq_webhook_logs_fanout): a second fan-out of
   * the same event, on this instance or another, adds only what was missing,
   * and only the rows inserted are returned.
   */
  insertFanOut(rows: NewAttempt[], leaseMs: number): Promise<InsertedAttempt[]> {
    if (rows.length === 0) return Promise.resolve([]);
    return this.insertRows(this.db.manager, '', '', rows, [leaseMs]);
  }

  private async insertRows(manager: EntityManager, prefix: string, where: string, rows: NewAttempt[], extra: unknown[]): Promise<InsertedAttempt[]> {
    const result: AttemptRow[] = await manager.query(
      `${prefix}
       INSERT INTO webhook_logs (webhook_id, event_id, event_type, attempt, trigger, status, scheduled_at, locked_until, started_at)
       SELECT w, e, t, a, tr, CASE WHEN c THEN '${Status.Sending}' ELSE '${Status.Pending}' END, COALESCE(s, now()),
              CASE WHEN c THEN now() + make_interval(secs => $8::double precision / 1000) END,
              CASE WHEN c THEN now() END
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::bool[], $7::timestamptz[]) AS x(w, e, t, a, tr, c, s)
       ${where}
       ON CONFLICT DO NOTHING
       ${RETURNING}, status`,
      [
        rows.map((r) => r.webhookId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.eventType),
        rows.map((r) => r.attempt),
        rows.map((r) => r.trigger),
        rows.map((r) => r.claimed),
        rows.map((r) => r.scheduledAt ?? null),
        ...extra,
      ],
    );
    return result.map((r) => ({ ...toClaimed(r), claimed: r.status === Status.Sending }));
  }

  /**
   * Claims up to `limit` due attempts, oldest first, taking from each webhook
   * no more than it has free slots on this instance: `perWebhook` minus its
   * count in `busy` (so a big backlog stays queued instead of being claimed
   * and handed back, and a webhook at its limit is left out). The window
   * looks at the oldest `limit * 4` due rows of those webhooks; rows another
   * instance claimed meanwhile are skipped (SKIP LOCKED, and the status is
   * checked again after the lock).
   */
  async claimDue(limit: number, leaseMs: number, busy: Map<string, number>, perWebhook: number): Promise<ClaimedAttempt[]> {
    if (limit <= 0) return [];
    const full = [...busy].filter(([, n]) => n >= perWebhook).map(([id]) => id);
    const partial = [...busy].filter(([, n]) => n < perWebhook);
    const res: unknown = await this.db.transaction(async (m) => {
      // The queue's statistics lag behind a burst, and on them the planner would fetch every due row
      // in a bitmap scan and sort them instead of reading the due index in order up to the limit
      // (docs/engine.md, the claim loop).
      await m.query('SET LOCAL enable_bitmapscan = off');
      return m.query<unknown>(
        `UPDATE webhook_logs SET status = '${Status.Sending}', locked_until = now() + make_interval(secs => $2::double precision / 1000), started_at = now()
         WHERE status = '${Status.Pending}' AND id IN (
           SELECT id FROM webhook_logs
           WHERE id IN (
             SELECT ranked.id FROM (
               SELECT id, webhook_id, scheduled_at, row_number() OVER (PARTITION BY webhook_id ORDER BY scheduled_at) AS nth
               FROM (
                 SELECT id, webhook_id, scheduled_at FROM webhook_logs
                 WHERE status = '${Status.Pending}' AND scheduled_at <= now() AND NOT (webhook_id = ANY($3::uuid[]))
                 ORDER BY scheduled_at
                 LIMIT $1 * 4
               ) AS due
             ) AS ranked
             LEFT JOIN unnest($5::uuid[], $6::int[]) AS b(webhook_id, in_flight) ON b.webhook_id = ranked.webhook_id
             WHERE ranked.nth <= $4 - COALESCE(b.in_flight, 0)
             ORDER BY ranked.scheduled_at
             LIMIT $1)
           FOR UPDATE SKIP LOCKED)
         ${RETURNING}`,
        [limit, leaseMs, full, perWebhook, partial.map(([id]) => id), partial.map(([, n]) => n)],
      );
    });
    return returnedRows<AttemptRow>(res).map(toClaimed);
  }

  /**
   * Attempts still `sending` after their lease (their instance died or hung)
   * go back to `pending`, to be sent again: at least once.
   */
  async requeueExpiredLeases(limit = 1000): Promise<number> {
    const res: unknown = await this.db.query(
      `UPDATE webhook_logs SET status = '${Status.Pending}', locked_until = NULL, started_at = NULL, scheduled_at = now()
       WHERE id IN (
         SELECT id FROM webhook_logs WHERE status = '${Status.Sending}' AND locked_until < now()
         LIMIT $1 FOR UPDATE SKIP LOCKED)`,
      [limit],
    );
    return affectedRows(res);
  }

  /** Gives claimed attempts back to the queue (shutdown, or over a per-endpoint limit). */
  async release(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `UPDATE webhook_logs SET status = '${Status.Pending}', locked_until = NULL, started_at = NULL
       WHERE id = ANY($1::uuid[]) AND status = '${Status.Sending}'`,
      [ids],
    );
  }

  /**
   * Cancels every pending attempt of a webhook (it was disabled), recording
   * why: `cancelled: webhook disabled (<the webhook's disabled_reason>)`.
   */
  async cancelPending(webhookId: string, disabledReason: string | null): Promise<number> {
    const res: unknown = await this.db.query(
      `UPDATE webhook_logs SET status = '${Status.Cancelled}', success = false, error = $2, finished_at = now(), locked_until = NULL
       WHERE webhook_id = $1 AND status = '${Status.Pending}'`,
      [webhookId, `cancelled: webhook disabled (${disabledReason ?? 'by an operator'})`],
    );
    return affectedRows(res);
  }

  /** Which of these events still have queued work (an attempt pending or sending). */
  async eventsWithQueuedWork(manager: EntityManager, eventIds: string[]): Promise<string[]> {
    const rows = await manager.query<Array<{ event_id: string }>>(
      `SELECT DISTINCT event_id FROM webhook_logs WHERE event_id = ANY($1::uuid[]) AND status IN ('${Status.Pending}', '${Status.Sending}')`,
      [eventIds],
    );
    return rows.map((r) => r.event_id);
  }

  /** The next attempt number for an event at a webhook (redeliver, recover). */
  async nextAttemptNumber(manager: EntityManager, webhookId: string, eventId: string): Promise<number> {
    const [row] = await manager.query<Array<{ n: string }>>(
      `SELECT COALESCE(max(attempt), 0) + 1 AS n FROM webhook_logs WHERE webhook_id = $1 AND event_id = $2`,
      [webhookId, eventId],
    );
    return Number(row.n);
  }
}
