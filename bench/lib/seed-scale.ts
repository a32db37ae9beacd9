/**
 * Bulk data for the scale scenario: 10,000,000 attempts (scaled) in the
 * attempt log with their 3,200,000 events, generated in PostgreSQL
 * (`INSERT … SELECT generate_series`, one statement per table and day, two
 * days at a time on two connections):
 *  - 20 webhooks (on the receiver's ports, one origin each); every event goes
 *    to three of them: one of webhooks 0–2 (by event type: each holds ~10.7 %
 *    of the log, the biggest webhook share of the reads scenario), one of
 *    3–9 (~4.6 % each) and one of 10–19 (~3.2 % each);
 *  - events evenly over the last 11 days and today (from midnight UTC 11 days
 *    ago until now), so the log spans 12 daily partitions, 11 of them whole
 *    days; the partitions are created by the service's own code
 *    (`createDailyPartitions`, as RetentionJob and EventsService call it);
 *  - one event in 8 needed a retry on one of its webhooks (attempt 1 failed
 *    with a 500, attempt 2 five seconds later succeeded, or failed too for
 *    one in 5 of them), and 1 % of the other attempts failed: ~95 % of the
 *    attempts succeeded, ~5 % failed;
 *  - request and response headers of the size the engine records (a fixed
 *    sample, ~450 and ~120 bytes of JSON), durations 15–215 ms skewed low;
 *  - rows inserted in time order, as a live table fills up.
 * Loaded the way bulk loads are done (as bench/lib/seed-reads.ts): foreign-key
 * triggers off for the session (the rows are consistent by construction), the
 * secondary indexes dropped and re-created from their own definitions, then
 * VACUUM (ANALYZE), which autovacuum does on its own to a table that grew by
 * this much (insert-triggered vacuum since PostgreSQL 13): visibility map and
 * statistics as a real installation has them.
 */
import type { Client } from 'pg';
import { DataSource } from 'typeorm';
import { canonicalJson } from '../../src/common/canonical-json';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { createDailyPartitions, utcDay } from '../../src/database/daily-partitions';
import { eventData } from './api';

export const SCALE_WEBHOOKS = 20;
/** Whole days before today that hold data (plus today up to now). */
export const SCALE_FULL_DAYS = 11;
const TYPES = ['service.started', 'service.stopped', 'user.created', 'domain.cert_issued', 'backup.created', 'system.resource_alert'];
const DAY_MS = 86_400_000;

/** What the engine records for a delivery (src/delivery/sending/signature.ts), one sample: the size is what matters here. */
const REQUEST_HEADERS = {
  'Content-Type': 'application/json',
  'User-Agent': 'ATLAS-Webhooks/1.0',
  'X-ATLAS-Event': 'service.started',
  'X-ATLAS-Signature': 'sha256=3f1c9a7e0b5d2c8f4a6e1b9d7c3f5a2e8b0d4c6f1a3e5b7d9c2f4a6e8b0d1c3f',
  'X-ATLAS-Delivery': '6f0e2c1a-9b7d-4e3f-8a5c-2d1b0e9f8a7c',
  'X-ATLAS-Attempt': '1',
  'X-ATLAS-Timestamp': '1764700000',
  'webhook-id': '6f0e2c1a-9b7d-4e3f-8a5c-2d1b0e9f8a7c',
  'webhook-timestamp': '1764700000',
  'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
};
const RESPONSE_HEADERS = { 'content-type': 'application/json', 'content-length': '11', date: 'Wed, 03 Dec 2026 08:00:00 GMT', connection: 'keep-alive' };

export interface ScaleSeed {
  attempts: number;
  events: number;
  webhooks: number;
  /** Webhook ids, index i = webhook i (on receiver port i mod ports). */
  webhookIds: string[];
  /** Partitions (days) holding data, oldest first. */
  days: Array<{ day: string; events: number; attempts: number }>;
  seconds: { partitions: number; insert: number; indexes: number; vacuum_analyze: number; total: number };
  table_mb: { webhook_logs: number; webhook_events: number };
}

/** Runs the jobs on `clients.length` connections, each taking the next job when it is done with one. */
async function onPool<T>(clients: Client[], jobs: Array<(db: Client) => Promise<T>>): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  await Promise.all(
    clients.map(async (db) => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i](db);
      }
    }),
  );
  return out;
}

export async function seedScale(
  clients: Client[],
  databaseUrl: string,
  attempts: number,
  receiverUrl: (i: number) => string,
  secret: string,
): Promise<ScaleSeed> {
  const t0 = performance.now();
  const db = clients[0];
  // rows per event: 3 attempts + one retry per 8 events (25/8), so 10,000,000 attempts are exactly 3,200,000 events
  const events = Math.max(8, Math.round((attempts * 8) / 25));
  const webhookIds: string[] = [];
  for (let i = 0; i < SCALE_WEBHOOKS; i++) {
    const subscribed = i < 3 ? [TYPES[i], TYPES[i + 3]] : ['*'];
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO webhooks (name, url, secret, events, created_at) VALUES ($1, $2, $3, $4, now() - interval '60 days') RETURNING id`,
      [`scale-${String(i).padStart(2, '0')}`, receiverUrl(i), secret, subscribed],
    );
    webhookIds.push(rows[0].id);
  }

  const now = Date.now();
  const start = utcDay(new Date(now)).getTime() - SCALE_FULL_DAYS * DAY_MS;
  const end = now - 10_000; // retries 5 s after their first attempt stay in the past
  const span = (end - start) / 1000;
  // the partitions of those days, made by the service's own code (the template has yesterday to a week ahead)
  const ds = new DataSource({ ...dataSourceOptions(databaseUrl, 1), logging: false });
  await ds.initialize();
  try {
    await createDailyPartitions(ds, 'webhook_logs', new Date(start), SCALE_FULL_DAYS + 1);
    await createDailyPartitions(ds, 'webhook_events', new Date(start), SCALE_FULL_DAYS + 1);
  } finally {
    await ds.destroy();
  }
  const t1 = performance.now();

  for (const c of clients) {
    await c.query(`SET session_replication_role = replica`);
    await c.query(`SET maintenance_work_mem = '512MB'`);
  }
  const indexes: Array<{ name: string; def: string }> = [];
  for (const table of ['webhook_logs', 'webhook_events']) {
    const { rows } = await db.query<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
       WHERE i.schemaname = 'public' AND i.tablename = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
      [table],
    );
    indexes.push(...rows);
  }
  for (const index of indexes) await db.query(`DROP INDEX ${db.escapeIdentifier(index.name)}`);

  // per day: the events whose time falls in it, then their attempts
  const dayJobs: Array<(c: Client) => Promise<{ day: string; events: number; attempts: number }>> = [];
  for (let d = 0; d <= SCALE_FULL_DAYS; d++) {
    const dayStart = start + d * DAY_MS;
    const g0 = Math.min(events, Math.ceil((((dayStart - start) / 1000) * events) / span));
    const g1 = Math.min(events, Math.ceil((((dayStart + DAY_MS - start) / 1000) * events) / span));
    if (g1 <= g0) continue;
    dayJobs.push(async (c) => {
      // event g at start + g/events of the span; ids derived from g (md5: random-looking, as the engine's)
      const common = [new Date(start), span, events, g0, g1];
      const ev = await c.query(
        `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at)
         SELECT md5('scale-event-' || g)::uuid, ($6::text[])[1 + g % 6], $7::json, ts, ts
         FROM (SELECT g, $1::timestamptz + (g::float8 * $2 / $3) * interval '1 second' AS ts FROM generate_series($4::int, $5::int - 1) g) s`,
        [...common, TYPES, canonicalJson(eventData(7))],
      );
      const logs = await c.query(
        `INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, status_code, duration_ms,
                                   error, request_headers, response_headers, response_body, next_retry_at, created_at, started_at, finished_at)
         SELECT ($6::uuid[])[1 + w], md5('scale-event-' || g)::uuid, ts, ($7::text[])[1 + g % 6], a, 'event', st, st = 'succeeded', at,
                CASE st WHEN 'succeeded' THEN 200 ELSE 500 END, ms,
                CASE st WHEN 'failed' THEN 'HTTP 500 Internal Server Error' END, $8::json, $9::json,
                CASE st WHEN 'succeeded' THEN '{"ok":true}' ELSE '{"error":"internal"}' END,
                CASE WHEN retry AND a = 1 THEN at + interval '5 seconds' END,
                at, at + interval '1 millisecond', at + interval '1 millisecond' + ms * interval '1 millisecond'
         FROM (SELECT g, j, a, ts, retry, ms, at,
                      CASE j WHEN 0 THEN g % 3 WHEN 1 THEN 3 + g % 7 ELSE 10 + g % 10 END AS w,
                      CASE WHEN retry AND a = 1 THEN 'failed'
                           WHEN retry THEN CASE WHEN (g / 8) % 5 = 0 THEN 'failed' ELSE 'succeeded' END
                           WHEN (g * 3 + j) % 100 = 37 THEN 'failed'
                           ELSE 'succeeded' END AS st
               FROM (SELECT g, $1::timestamptz + (g::float8 * $2 / $3) * interval '1 second' AS ts FROM generate_series($4::int, $5::int - 1) g) e
               CROSS JOIN generate_series(0, 2) j
               CROSS JOIN LATERAL (SELECT g % 8 = 0 AND j = (g / 8) % 3 AS retry) r
               CROSS JOIN LATERAL generate_series(1, CASE WHEN r.retry THEN 2 ELSE 1 END) a
               CROSS JOIN LATERAL (SELECT (15 + 200 * random() * random())::int AS ms,
                                          e.ts + j * interval '2 milliseconds' + (a - 1) * interval '5 seconds' AS at) t) s`,
        [...common, webhookIds, TYPES, JSON.stringify(REQUEST_HEADERS), JSON.stringify(RESPONSE_HEADERS)],
      );
      return { day: new Date(dayStart).toISOString().slice(0, 10), events: ev.rowCount ?? 0, attempts: logs.rowCount ?? 0 };
    });
  }
  const days = await onPool(clients, dayJobs);
  const t2 = performance.now();

  // a partitioned table's index is defined `ON ONLY` the parent: re-created as it reads, it would
  // cover no partition; without ONLY it is built on every partition and attached (the names of the
  // partitions' indexes are generated as when a partition is created under an existing index)
  await onPool(
    clients,
    indexes.map((index) => (c: Client) => c.query(index.def.replace(' ON ONLY ', ' ON '))),
  );
  for (const c of clients) {
    await c.query(`RESET session_replication_role`);
    await c.query(`RESET maintenance_work_mem`);
  }
  const t3 = performance.now();
  const { rows: parts } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent IN ('webhook_logs'::regclass, 'webhook_events'::regclass) ORDER BY c.relpages DESC`,
  );
  await onPool(
    clients,
    parts.map((p) => (c: Client) => c.query(`VACUUM (ANALYZE) ${c.escapeIdentifier(p.name)}`)),
  );
  // the parents' own statistics (the planner's estimates over all partitions)
  await onPool(clients, [
    (c: Client) => c.query('ANALYZE webhook_logs'),
    (c: Client) => c.query('ANALYZE webhook_events'),
    (c: Client) => c.query('VACUUM (ANALYZE) webhooks'),
  ]);
  const t4 = performance.now();

  const [size] = (
    await db.query<{ logs: string; events: string }>(
      `SELECT (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'webhook_logs'::regclass) AS logs,
              (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'webhook_events'::regclass) AS events`,
    )
  ).rows;
  const total = days.reduce((n, d) => n + d.attempts, 0);
  const s = (ms: number) => Math.round(ms / 100) / 10;
  return {
    attempts: total,
    events: days.reduce((n, d) => n + d.events, 0),
    webhooks: SCALE_WEBHOOKS,
    webhookIds,
    days,
    seconds: { partitions: s(t1 - t0), insert: s(t2 - t1), indexes: s(t3 - t2), vacuum_analyze: s(t4 - t3), total: s(t4 - t0) },
    table_mb: { webhook_logs: Math.round(Number(size.logs) / 2 ** 20), webhook_events: Math.round(Number(size.events) / 2 ** 20) },
  };
}
