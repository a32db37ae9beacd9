/**
 * Bulk data for the reads scenario, generated in PostgreSQL (generate_series):
 * 1,000 webhooks and 1,000,000 attempts (scaled) over 250,000 events, with
 *  - a skewed split over webhooks: webhook i (0-based) gets the share of
 *    floor(1000 * random()^3) = i, so #0 holds ~10% of all attempts, the top
 *    10 ~22%, and the smallest a few hundred each;
 *  - created_at spread over the last 30 days (minus an hour, inside the
 *    retention window), a quarter of them in the last 24 hours;
 *  - an event picked twice for one webhook becomes a retry (attempt 2, 3…,
 *    the earlier ones failed); last attempts: 93% succeeded, 6% failed, 1%
 *    pending (retry scheduled in the future, when less than a day old);
 *  - request headers as the engine records them (about 500 bytes of JSON);
 *  - rows inserted in created_at order, as a live table fills up (the heap
 *    order then follows time, which the per-webhook windows rely on).
 * Loaded the way bulk loads are done: foreign-key triggers off for the
 * session (session_replication_role = replica; the rows are consistent by
 * construction) and the secondary indexes of webhook_logs dropped and then
 * re-created from their own definitions (pg_indexes), so the schema ends up
 * exactly as the migrations made it.
 */
import type { Client } from 'pg';
import { canonicalJson } from '../../src/common/canonical-json';
import { eventData } from './api';

export const READS_WEBHOOKS = 1_000;
const TYPES = ['service.started', 'service.stopped', 'user.created', 'domain.cert_issued', 'backup.created', 'system.resource_alert'];

/** The daily partitions of the last `days` days (a running installation has them; a fresh database only has this week's). */
async function createDays(db: Client, table: string, days: number): Promise<void> {
  await db.query(
    `DO $$ DECLARE d date; BEGIN
       FOR d IN SELECT generate_series((now() AT TIME ZONE 'UTC')::date - ${days}, (now() AT TIME ZONE 'UTC')::date, interval '1 day')::date LOOP
         EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF ${table} FOR VALUES FROM (%L) TO (%L)',
                        '${table}_p' || to_char(d, 'YYYYMMDD'), (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
       END LOOP; END $$`,
  );
}

export async function seedReads(db: Client, attempts: number, url: string, secret: string): Promise<Record<string, number>> {
  const events = Math.ceil(attempts / 4);
  await db.query(
    `INSERT INTO webhooks (name, url, secret, events, created_at)
     SELECT 'reads-' || lpad(g::text, 4, '0'), $1, $2, ARRAY['*'], now() - interval '60 days' + g * interval '1 second'
     FROM generate_series(0, $3::int - 1) g`,
    [url, secret, READS_WEBHOOKS],
  );
  await db.query(`CREATE TEMP TABLE wh AS SELECT (row_number() OVER (ORDER BY created_at) - 1)::int AS idx, id FROM webhooks`);
  await db.query(`CREATE UNIQUE INDEX ON wh (idx)`);
  await createDays(db, 'webhook_events', 31);
  await createDays(db, 'webhook_logs', 31);
  await db.query(
    `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at)
     SELECT gen_random_uuid(), ($1::text[])[1 + g % cardinality($1::text[])], $2::json, ts, ts
     FROM (SELECT g, now() - CASE WHEN random() < 0.25 THEN random() * interval '24 hours'
                              ELSE interval '24 hours' + random() * interval '28 days 22 hours' END AS ts
           FROM generate_series(1, $3::int) g) s`,
    [TYPES, canonicalJson(eventData(7)), events],
  );
  await db.query(
    `CREATE TEMP TABLE cand AS
     SELECT e.id AS event_id, e.type, e.created_at, floor(1000 * power(random(), 3))::int AS widx
     FROM webhook_events e CROSS JOIN generate_series(1, 4)`,
  );
  await db.query(`SET maintenance_work_mem = '256MB'`);
  await db.query(`SET session_replication_role = replica`);
  const { rows: indexes } = await db.query<{ name: string; def: string }>(
    `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
     WHERE i.schemaname = 'public' AND i.tablename = 'webhook_logs'
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
  );
  for (const index of indexes) await db.query(`DROP INDEX ${db.escapeIdentifier(index.name)}`);
  await db.query(
    `CREATE TEMP TABLE seeded AS
     SELECT wh.id AS webhook_id, c.event_id, c.created_at AS event_created_at, c.type AS event_type, c.rn AS attempt, 'event'::text AS trigger, s.status,
            CASE s.status WHEN 'succeeded' THEN true WHEN 'failed' THEN false END AS success,
            CASE WHEN s.status = 'pending' THEN now() + interval '1 hour' ELSE s.at END AS scheduled_at,
            CASE s.status WHEN 'succeeded' THEN 200 WHEN 'failed' THEN 500 END AS status_code,
            CASE WHEN s.status <> 'pending' THEN s.ms END AS duration_ms,
            CASE WHEN s.status = 'failed' THEN 'HTTP 500 Internal Server Error' END AS error,
            CASE WHEN s.status <> 'pending' THEN jsonb_build_object(
              'Content-Type', 'application/json', 'User-Agent', 'ATLAS-Webhooks/1.0', 'X-ATLAS-Event', c.type,
              'X-ATLAS-Signature', md5(c.event_id::text) || md5(wh.id::text), 'X-ATLAS-Delivery', gen_random_uuid()::text,
              'X-ATLAS-Attempt', c.rn::text, 'webhook-id', c.event_id::text, 'webhook-timestamp', extract(epoch FROM s.at)::bigint::text,
              'webhook-signature', 'v1,' || encode(decode(md5(wh.id::text || c.event_id::text), 'hex'), 'base64') || 'AAAAAAAAAAAAAAAAAAAAAA==') END AS request_headers,
            CASE WHEN s.status <> 'pending' THEN jsonb_build_object('content-type', 'application/json', 'content-length', '11',
              'date', to_char(s.at, 'Dy, DD Mon YYYY HH24:MI:SS "GMT"'), 'connection', 'keep-alive') END AS response_headers,
            CASE s.status WHEN 'succeeded' THEN '{"ok":true}' WHEN 'failed' THEN '{"error":"internal"}' END AS response_body,
            CASE WHEN s.status = 'failed' AND c.rn < c.cnt THEN s.at + interval '5 seconds' END AS next_retry_at,
            s.at AS created_at,
            CASE WHEN s.status <> 'pending' THEN s.at END AS started_at,
            CASE WHEN s.status <> 'pending' THEN s.at + s.ms * interval '1 millisecond' END AS finished_at
     FROM (SELECT cand.*, row_number() OVER w AS rn, count(*) OVER w AS cnt, random() AS r
           FROM cand WINDOW w AS (PARTITION BY event_id, widx)) c
     JOIN wh ON wh.idx = c.widx
     CROSS JOIN LATERAL (
       SELECT CASE WHEN c.rn < c.cnt THEN 'failed'
                   WHEN c.r < 0.93 THEN 'succeeded'
                   WHEN c.r < 0.99 OR c.created_at < now() - interval '1 day' THEN 'failed'
                   ELSE 'pending' END AS status,
              c.created_at + (c.rn - 1) * interval '5 seconds' AS at,
              (15 + 200 * random() * random())::int AS ms) s`,
  );
  // finished attempts to the log, in time order (as they would have been written); the pending ones to the queue
  await db.query(
    `INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, status_code, duration_ms,
                               error, request_headers, response_headers, response_body, next_retry_at, created_at, started_at, finished_at)
     SELECT webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, status_code, duration_ms,
            error, request_headers, response_headers, response_body, next_retry_at, created_at, started_at, finished_at
     FROM seeded WHERE status <> 'pending' ORDER BY created_at`,
  );
  await db.query(
    `INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, created_at)
     SELECT webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, created_at FROM seeded WHERE status = 'pending'`,
  );
  await db.query('DROP TABLE cand');
  await db.query('DROP TABLE seeded');
  // a partitioned table's index is defined `ON ONLY` the parent: re-created as it reads, it would
  // cover no partition; without ONLY it is built on every partition and attached
  for (const index of indexes) await db.query(index.def.replace(' ON ONLY ', ' ON '));
  await db.query(`RESET session_replication_role`);
  await db.query(`RESET maintenance_work_mem`);
  await db.query('VACUUM (ANALYZE) webhook_logs');
  await db.query('VACUUM (ANALYZE) webhook_events');
  await db.query('VACUUM (ANALYZE) webhooks');
  const { rows } = await db.query<{ attempts: number; last_24h: number; biggest: number; smallest: number; top10_share: number }>(
    `WITH per AS (SELECT webhook_id, count(*) AS n FROM webhook_logs GROUP BY webhook_id)
     SELECT (SELECT count(*)::int FROM webhook_logs) AS attempts,
            (SELECT count(*)::int FROM webhook_logs WHERE created_at >= now() - interval '24 hours') AS last_24h,
            (SELECT max(n)::int FROM per) AS biggest,
            (SELECT min(n)::int FROM per) AS smallest,
            (SELECT round(sum(n) FILTER (WHERE n >= (SELECT n FROM per ORDER BY n DESC OFFSET 9 LIMIT 1)) / sum(n), 3)::float FROM per) AS top10_share`,
  );
  return { ...rows[0], events, webhooks: READS_WEBHOOKS };
}

/** Webhook ids by size: index 0 the biggest. */
export async function webhooksBySize(db: Client): Promise<Array<{ id: string; n: number }>> {
  const { rows } = await db.query<{ id: string; n: number }>(
    `SELECT w.id, count(l.id)::int AS n FROM webhooks w LEFT JOIN webhook_logs l ON l.webhook_id = w.id GROUP BY w.id ORDER BY n DESC`,
  );
  return rows;
}
