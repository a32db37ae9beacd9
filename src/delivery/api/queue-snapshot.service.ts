import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The delivery queue as the database sees it (all instances together). */
export interface QueueSnapshot {
  pending: number;
  due: number;
  oldestDueAgeSeconds: number;
}

/**
 * The queue's size for `GET /metrics`: the delivery queue only, so its cost
 * follows the queue's length, not the log's.
 */
@Injectable()
export class QueueSnapshotService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Gives up after `timeoutMs` (PostgreSQL cancels the statement), so a hung database cannot hang a scrape. */
  async read(timeoutMs: number): Promise<QueueSnapshot> {
    const rows = await this.db.transaction(async (m) => {
      await m.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
      return m.query<Array<{ pending: string; due: string; oldest_due_age_s: string | null }>>(
        `SELECT count(*) AS pending,
                count(*) FILTER (WHERE scheduled_at <= now()) AS due,
                EXTRACT(EPOCH FROM now() - min(scheduled_at) FILTER (WHERE scheduled_at <= now())) AS oldest_due_age_s
         FROM delivery_queue WHERE locked_until IS NULL OR locked_until < now()`,
      );
    });
    const row = rows[0];
    return { pending: Number(row.pending), due: Number(row.due), oldestDueAgeSeconds: Math.max(0, Number(row.oldest_due_age_s ?? 0)) };
  }
}
