/**
 * The minimal sender's own tables (schema `minimal`, in a database of its
 * own), and the SQL the benchmark runs around it: registering webhooks,
 * seeding a backlog, clearing and counting attempts. Used by the sender
 * (createSchema at start-up) and by the benchmark (bench/lib/minimal.ts).
 *
 * The attempts table has the kind of columns the engine's `webhook_logs`
 * records (webhook, event, attempt number, status, status code, duration,
 * error, request and response headers, the capped response body, timestamps)
 * and the indexes a real sender cannot do without: the primary key, the
 * partial index of due pending attempts (the queue) and (webhook_id,
 * created_at) for "the log of this webhook". No foreign keys: the sender
 * never deletes anything, so they would only cost lookups on every insert.
 * Headers are stored as `json` (the text, validated) rather than `jsonb`
 * (parsed into a binary tree): the same information for less work, as
 * nothing queries inside them. Ids are time-ordered UUIDs (version 7, as the
 * engine makes them: src/common/uuid-v7.ts, and `minimal.uuid_v7()` in SQL),
 * so the primary keys grow at one end.
 */
import type { Client, ClientBase } from 'pg';

export const SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS minimal;
CREATE OR REPLACE FUNCTION minimal.uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    placing substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;
CREATE TABLE IF NOT EXISTS minimal.webhooks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  url text NOT NULL,
  secret text NOT NULL,
  events text[] NOT NULL
);
CREATE TABLE IF NOT EXISTS minimal.events (
  id uuid PRIMARY KEY,
  type text NOT NULL,
  payload json NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS minimal.attempts (
  id uuid PRIMARY KEY,
  webhook_id uuid NOT NULL,
  event_id uuid NOT NULL,
  attempt int NOT NULL DEFAULT 1,
  status text NOT NULL DEFAULT 'pending',
  scheduled_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  status_code int,
  duration_ms int,
  error text,
  request_headers json,
  response_headers json,
  response_body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS attempts_due ON minimal.attempts (scheduled_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS attempts_webhook_created ON minimal.attempts (webhook_id, created_at);
`;

export async function createSchema(db: ClientBase): Promise<void> {
  await db.query(SCHEMA_SQL);
}

/** Registers webhooks (the sender reads them once, at start-up). */
export async function insertWebhooks(db: Client, hooks: Array<{ url: string; secret: string; events: string[] }>): Promise<void> {
  for (const h of hooks) await db.query('INSERT INTO minimal.webhooks (url, secret, events) VALUES ($1, $2, $3)', [h.url, h.secret, h.events]);
}

/** `events` events of `type` with `payloadText` (canonical JSON), each with a due pending attempt per webhook, as after an outage. */
export async function insertMinimalBacklog(db: Client, type: string, payloadText: string, events: number): Promise<number> {
  const res = await db.query(
    `WITH ev AS (
       INSERT INTO minimal.events (id, type, payload, created_at)
       SELECT minimal.uuid_v7(), $1, $2::json, now() - interval '10 minutes' FROM generate_series(1, $3::int)
       RETURNING id, created_at)
     INSERT INTO minimal.attempts (id, webhook_id, event_id, attempt, status, scheduled_at, created_at)
     SELECT minimal.uuid_v7(), w.id, ev.id, 1, 'pending', ev.created_at, ev.created_at
     FROM ev JOIN minimal.webhooks w ON $1 = ANY (w.events)`,
    [type, payloadText, events],
  );
  await db.query('ANALYZE minimal.attempts');
  return res.rowCount ?? 0;
}

export async function truncateMinimal(db: Client): Promise<void> {
  await db.query('TRUNCATE minimal.attempts, minimal.events');
}

export async function minimalStatusCounts(db: Client): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM minimal.attempts GROUP BY status');
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Waits until `succeeded` attempts are recorded and none is pending or sending; returns the counts. */
export async function waitForMinimalRecorded(db: Client, succeeded: number, timeoutMs = 60_000): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const counts = await minimalStatusCounts(db);
    const open = (counts.pending ?? 0) + (counts.sending ?? 0);
    if (((counts.succeeded ?? 0) >= succeeded && open === 0) || Date.now() > deadline) return counts;
    await new Promise((r) => setTimeout(r, 100));
  }
}
