import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { returnedRows } from '../../database/query-result';
import type { ClaimedAttempt } from '../attempt.types';
import { QUEUE_ROW_COLUMNS, QueueRow, toClaimed, CLAIMABLE } from './queue-row';
import { advance, grantable, intervalMs, waitForNext } from './gcra';

/** A webhook whose attempts go through the paced lane: a rate limit, FIFO ordering, or both. */
export interface PacedWebhook {
  id: string;
  rateLimit: number | null;
  fifo: boolean;
}

/** What held a paced claim back: the room it was given, the rate limit, FIFO's one in flight, or nothing (no more due). */
export type PacedLimit = 'room' | 'rate' | 'fifo' | null;

export interface PacedClaim {
  attempts: ClaimedAttempt[];
  /** How many of them another instance had held until its lease ran out. */
  expiredLeases: number;
  limitedBy: PacedLimit;
  /** With `rate`: milliseconds until the limit lets the next delivery start. */
  rateWaitMs: number;
}

/**
 * Claims for paced webhooks. Each claim holds the webhook's
 * `delivery_pacing` row lock, so claims for one webhook run one at a time
 * across all instances: the rate limit's state (GCRA, `gcra.ts`) is read and
 * moved on under the lock, and FIFO's "one in flight, oldest event first" is
 * checked against the queue as it is once the lock is held (each statement
 * of the transaction takes a fresh snapshot).
 */
@Injectable()
export class PacingStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Which of these webhooks have an attempt due that nobody holds (one index probe each). */
  async withDueWork(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.query<Array<{ id: string }>>(
      `SELECT w.id FROM unnest($1::uuid[]) AS w(id)
       WHERE EXISTS (SELECT 1 FROM delivery_queue q WHERE q.webhook_id = w.id AND q.scheduled_at <= now() AND ${CLAIMABLE})`,
      [ids],
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Claims up to `room` due attempts of a paced webhook, as its rate limit
   * allows; for FIFO at most one, and only the attempt of its oldest queued
   * event, when nothing of the webhook is in flight and no event recorded
   * before it is still waiting for fan-out (`unfannedSince`).
   */
  async claim(webhook: PacedWebhook, room: number, leaseMs: number, unfannedSince: Date | null): Promise<PacedClaim> {
    if (room <= 0) return { attempts: [], expiredLeases: 0, limitedBy: 'room', rateWaitMs: 0 };
    return this.db.transaction(async (m) => {
      const [pace] = await m.query<Array<{ next_at: Date; now: Date }>>(
        `INSERT INTO delivery_pacing (webhook_id) VALUES ($1)
         ON CONFLICT (webhook_id) DO UPDATE SET next_at = delivery_pacing.next_at
         RETURNING next_at, now() AS now`,
        [webhook.id],
      );
      const nextAt = pace.next_at.getTime();
      const now = pace.now.getTime();
      const rate = webhook.rateLimit;
      const tokens = rate === null ? Infinity : grantable(nextAt, now, rate);
      const limit = Math.min(room, tokens, webhook.fifo ? 1 : Infinity);
      if (limit <= 0) return { attempts: [], expiredLeases: 0, limitedBy: 'rate', rateWaitMs: Math.max(1, waitForNext(nextAt, now, rate!)) };
      const rows = await m.query<unknown>(
        `WITH picked AS (${webhook.fifo ? FIFO_HEAD : OLDEST_DUE}),
         claimed AS (
           UPDATE delivery_queue q SET locked_until = now() + make_interval(secs => $2::double precision / 1000), started_at = now()
           FROM picked p WHERE q.id = p.id AND (q.locked_until IS NULL OR q.locked_until < now())
           RETURNING ${QUEUE_ROW_COLUMNS.map((c) => `q.${c}`).join(', ')}, p.was_leased
         ), paced AS (
           UPDATE delivery_pacing
           SET next_at = GREATEST(next_at, now()) + (SELECT count(*) FROM claimed) * make_interval(secs => $3::double precision / 1000)
           WHERE webhook_id = $1 AND $3::double precision > 0
         )
         SELECT * FROM claimed`,
        // $4 is the pick's own: the limit, or (FIFO, one at most) the instant of the oldest unfanned event
        [webhook.id, leaseMs, rate === null ? 0 : intervalMs(rate), webhook.fifo ? unfannedSince : limit],
      );
      const claimed = returnedRows<QueueRow & { was_leased: boolean }>(rows);
      const n = claimed.length;
      let limitedBy: PacedLimit = null;
      if (webhook.fifo) limitedBy = 'fifo';
      else if (n >= limit) limitedBy = limit === room ? 'room' : 'rate';
      const rateWaitMs = rate === null ? 0 : Math.max(1, waitForNext(advance(nextAt, now, rate, n), now, rate));
      return { attempts: claimed.map(toClaimed), expiredLeases: claimed.filter((r) => r.was_leased).length, limitedBy, rateWaitMs };
    });
  }
}

/** The oldest due attempts nobody holds, at most $4 (rate limit only). */
const OLDEST_DUE = `SELECT id, locked_until IS NOT NULL AS was_leased FROM delivery_queue
  WHERE webhook_id = $1 AND scheduled_at <= now() AND ${CLAIMABLE}
  ORDER BY scheduled_at LIMIT $4::int FOR UPDATE SKIP LOCKED`;

/**
 * FIFO: the attempt of the oldest queued event (its retries included: a
 * retry not yet due holds the line), if it is due, nothing of the webhook is
 * in flight, and no event recorded before it ($4, the oldest unfanned
 * event's instant, or null) still waits for its fan-out.
 */
const FIFO_HEAD = `SELECT h.id, h.locked_until IS NOT NULL AS was_leased FROM (
    SELECT id, scheduled_at, locked_until, event_created_at FROM delivery_queue WHERE webhook_id = $1
    ORDER BY event_created_at, event_id, attempt LIMIT 1) AS h
  WHERE h.scheduled_at <= now() AND (h.locked_until IS NULL OR h.locked_until < now())
    AND ($4::timestamptz IS NULL OR h.event_created_at <= $4::timestamptz)
    AND NOT EXISTS (SELECT 1 FROM delivery_queue o WHERE o.webhook_id = $1 AND o.locked_until >= now())`;
