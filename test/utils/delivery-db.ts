/**
 * Direct SQL on a service's database, to look at the delivery queue the way
 * an operator would (status counts, rows left `sending`, unfanned events).
 */
import { Client } from 'pg';

/** Runs one query on its own connection. */
export async function queryDb<T = Record<string, unknown>>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export type StatusCounts = Record<'pending' | 'sending' | 'succeeded' | 'failed' | 'cancelled', number>;

/** Attempts per status (webhook_attempts: the queue and the log). */
export async function attemptStatusCounts(databaseUrl: string): Promise<StatusCounts> {
  const rows = await queryDb<{ status: keyof StatusCounts; n: number }>(databaseUrl, `SELECT status, count(*)::int AS n FROM webhook_attempts GROUP BY status`);
  const out: StatusCounts = { pending: 0, sending: 0, succeeded: 0, failed: 0, cancelled: 0 };
  for (const r of rows) out[r.status] = r.n;
  return out;
}

export interface AttemptRow {
  id: string;
  webhook_id: string;
  event_id: string;
  status: string;
  attempt: number;
  locked_until: Date | null;
}

/** The attempts in one status. */
export async function attemptsIn(databaseUrl: string, status: string): Promise<AttemptRow[]> {
  return queryDb<AttemptRow>(databaseUrl, `SELECT id, webhook_id, event_id, status, attempt, locked_until FROM webhook_attempts WHERE status = $1`, [status]);
}

/** Per (event, webhook): how many attempt rows, and how many succeeded. */
export async function attemptsPerPair(databaseUrl: string): Promise<Array<{ event_id: string; webhook_id: string; rows: number; succeeded: number }>> {
  return queryDb(
    databaseUrl,
    `SELECT event_id, webhook_id, count(*)::int AS rows, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded
     FROM webhook_attempts GROUP BY event_id, webhook_id`,
  );
}

/** Events stored but not fanned out yet. */
export async function unfannedEventCount(databaseUrl: string): Promise<number> {
  const [row] = await queryDb<{ n: number }>(databaseUrl, `SELECT count(*)::int AS n FROM webhook_events WHERE fanned_out_at IS NULL`);
  return row.n;
}

/** How many attempt rows one event has (for any webhook). */
export async function attemptCountOfEvent(databaseUrl: string, eventId: string): Promise<number> {
  const [row] = await queryDb<{ n: number }>(databaseUrl, `SELECT count(*)::int AS n FROM webhook_attempts WHERE event_id = $1`, [eventId]);
  return row.n;
}

/**
 * Attempts of one webhook still queued (`pending`, retries included) or in flight (`sending`).
 * A result and the retry it schedules are written in one transaction, so 0 after the attempts
 * finished means nothing more will be sent to this webhook unless a new event or redelivery comes.
 */
export async function queuedAttemptCount(databaseUrl: string, webhookId: string): Promise<number> {
  const [row] = await queryDb<{ n: number }>(
    databaseUrl,
    `SELECT count(*)::int AS n FROM webhook_attempts WHERE webhook_id = $1 AND status IN ('pending', 'sending')`,
    [webhookId],
  );
  return row.n;
}

/**
 * Resolves once the event is fanned out: from then on every attempt it will ever get (at fan-out)
 * exists as a row, so "no attempt for this webhook" is final. Rejects after `timeoutMs`.
 */
export async function fannedOut(databaseUrl: string, eventId: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [row] = await queryDb<{ done: boolean }>(databaseUrl, `SELECT fanned_out_at IS NOT NULL AS done FROM webhook_events WHERE id = $1`, [eventId]);
    if (row?.done) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`event ${eventId} was not fanned out within ${timeoutMs} ms`);
}
