import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ATTEMPT_LIST_COLUMNS, StoredAttempt, AttemptView, presentAttempt } from './attempt.presenter';

export interface AttemptFilter {
  webhookId?: string;
  eventId?: string;
  success?: boolean;
  status?: string;
  eventType?: string;
  since?: Date;
  until?: Date;
  limit: number;
  offset: number;
}

/** Counting stops here: beyond it `total` is a lower bound and `total_capped` is true. */
export const COUNT_CAP = 10_000;

export interface AttemptPage {
  items: AttemptView[];
  total: number;
  total_capped: boolean;
  limit: number;
  offset: number;
}

@Injectable()
export class AttemptLogService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Newest first; uses (webhook_id, created_at) or (created_at), and for a status other than succeeded the partial indexes of the rarer rows. */
  async list(filter: AttemptFilter): Promise<AttemptPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.webhookId) add('webhook_id = ?', filter.webhookId);
    if (filter.eventId) add('event_id = ?', filter.eventId);
    if (filter.success !== undefined) add('success = ?', filter.success);
    if (filter.status) add('status = ?', filter.status);
    if (filter.eventType) add('event_type = ?', filter.eventType);
    if (filter.since) add('created_at >= ?', filter.since);
    if (filter.until) add('created_at < ?', filter.until);
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const n = params.length;
    // `event_type` is only an INCLUDE column of (webhook_id, created_at): a plain index scan would fetch every row back in
    // time to test it (all of the window when the type is rare or absent). The index-only scan finds the created_at of
    // the first offset + limit matches without touching the rows; then only the rows at those times are fetched. All
    // rows at those times that match are among them, so ordering and paging them gives the same page.
    const pageSql = filter.eventType
      ? `SELECT ${ATTEMPT_LIST_COLUMNS} FROM webhook_attempts ${whereSql}
           AND created_at = ANY (ARRAY(SELECT created_at FROM webhook_attempts ${whereSql} ORDER BY created_at DESC LIMIT $${n + 3}))
         ORDER BY created_at DESC, id DESC LIMIT $${n + 1} OFFSET $${n + 2}`
      : `SELECT ${ATTEMPT_LIST_COLUMNS} FROM webhook_attempts ${whereSql} ORDER BY created_at DESC, id DESC LIMIT $${n + 1} OFFSET $${n + 2}`;
    const pageParams = filter.eventType ? [...params, filter.limit, filter.offset, filter.limit + filter.offset] : [...params, filter.limit, filter.offset];
    const [rows, [count]] = await Promise.all([
      this.db.query<StoredAttempt[]>(pageSql, pageParams),
      this.db.query<Array<{ total: number }>>(
        `SELECT count(*)::int AS total FROM (SELECT 1 FROM webhook_attempts ${whereSql} LIMIT ${COUNT_CAP + 1}) AS capped`,
        params,
      ),
    ]);
    const capped = count.total > COUNT_CAP;
    return { items: rows.map(presentAttempt), total: capped ? COUNT_CAP : count.total, total_capped: capped, limit: filter.limit, offset: filter.offset };
  }

  /** One attempt with its request and response. */
  async findOne(webhookId: string, logId: string): Promise<StoredAttempt | null> {
    const [row] = await this.db.query<StoredAttempt[]>(`SELECT * FROM webhook_attempts WHERE id = $1 AND webhook_id = $2`, [logId, webhookId]);
    return row ?? null;
  }

  /** Attempts of one event, oldest first (for GET /api/events/{id}). */
  async forEvent(eventId: string): Promise<AttemptView[]> {
    const rows = await this.db.query<StoredAttempt[]>(
      `SELECT ${ATTEMPT_LIST_COLUMNS} FROM webhook_attempts WHERE event_id = $1 ORDER BY created_at, attempt LIMIT 1000`,
      [eventId],
    );
    return rows.map(presentAttempt);
  }
}
