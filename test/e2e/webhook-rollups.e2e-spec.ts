/**
 * A webhook's stats and time series come from minute rollups whose hours that
 * are over are reused (src/delivery/api/webhook-rollups.ts): their answers
 * must be exactly what one aggregate over the log gives (the queries these
 * routes ran before, kept here as the reference), on the first request, from
 * the kept hours, and with attempts added since.
 */
import { CaptureServer } from '../utils/capture-server';
import { queryDb } from '../utils/delivery-db';
import { createTestApp, TestApp } from '../utils/test-app';

const TYPES = ['service.started', 'service.stopped', 'backup.created'];

/** The stats route's aggregates as one query over the log (what it ran before the rollups). */
const REFERENCE_STATS = `
  SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
         count(*) FILTER (WHERE status = 'failed')::int AS failed, count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
         count(DISTINCT event_id) FILTER (WHERE status = 'succeeded')::int AS events_delivered,
         avg(duration_ms) FILTER (WHERE duration_ms IS NOT NULL) AS avg_ms,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE duration_ms IS NOT NULL) AS p95_ms
  FROM webhook_logs WHERE webhook_id = $1 AND created_at >= $2`;
const REFERENCE_TYPES = `
  SELECT event_type, count(*)::int AS total, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded, count(*) FILTER (WHERE status = 'failed')::int AS failed
  FROM webhook_logs WHERE webhook_id = $1 AND created_at >= $2 GROUP BY event_type ORDER BY event_type`;
/** The series' buckets as one query (queue and log). */
const REFERENCE_BUCKETS = `
  SELECT floor(extract(epoch FROM created_at) / $2)::bigint * $2 AS b,
         count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded, count(*) FILTER (WHERE status = 'failed')::int AS failed,
         count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled, count(*) FILTER (WHERE status IN ('pending', 'sending'))::int AS retrying,
         percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE duration_ms IS NOT NULL) AS pct
  FROM webhook_attempts WHERE webhook_id = $3 AND created_at >= $1 GROUP BY 1 ORDER BY 1`;

const round1 = (v: unknown) => (v === null ? null : Math.round(Number(v) * 10) / 10);

describe('webhook rollups: stats and series exactly as one aggregate over the log', () => {
  let t: TestApp;
  let admin: string;
  let hookId: string;
  const receiver = new CaptureServer(() => ({ status: 200, body: 'ok' }));
  const get = (path: string) => t.http().get(path).set('Authorization', `Bearer ${admin}`);

  beforeAll(async () => {
    [t] = await Promise.all([createTestApp(), receiver.start()]);
    admin = await t.login();
    hookId = (
      await t
        .http()
        .post('/api/webhooks')
        .set('Authorization', `Bearer ${admin}`)
        .send({ name: 'history', url: `${receiver.url}/in`, events: ['*'], retry_enabled: false })
        .expect(201)
    ).body.id as string;
    // 30 hours of history (none within 10 minutes of the 24-hour boundary, which moves between two requests):
    // chains of attempts (first ones, retries), some delivered again (redeliver, recover), some queued
    await queryDb(
      t.databaseUrl,
      `WITH e AS (
         SELECT g, md5('rollup-event-' || g)::uuid AS id, ($2::text[])[1 + g % 3] AS type,
                now() - (CASE WHEN m BETWEEN 1430 AND 1450 THEN m + 30 ELSE m END) * interval '1 minute' - (g % 50) * interval '1 second' AS at
         FROM generate_series(1, 1500) g, LATERAL (SELECT (g * 7919) % 1800 AS m) mm)
       INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, duration_ms, status_code, created_at, finished_at)
       SELECT $1, e.id, e.at, e.type, a.n, a.trigger, a.status, a.status = 'succeeded', e.at, a.ms, 200, e.at + a.n * interval '1 second', e.at
       FROM e CROSS JOIN LATERAL (VALUES
         (1, 'event', CASE WHEN g % 5 = 0 THEN 'failed' WHEN g % 97 = 0 THEN 'cancelled' ELSE 'succeeded' END, CASE WHEN g % 97 = 0 THEN NULL ELSE 10 + (g * 37) % 400 END),
         (2, 'event', CASE WHEN g % 25 = 0 THEN 'failed' ELSE 'succeeded' END, 20 + (g * 13) % 300),
         (3, 'redeliver', 'succeeded', 5 + g % 90),
         (4, 'recover', 'succeeded', 7 + g % 40)
       ) AS a(n, trigger, status, ms)
       WHERE a.n = 1 OR (a.n = 2 AND g % 5 = 0) OR (a.n = 3 AND g % 11 = 0) OR (a.n = 4 AND g % 13 = 0)`,
      [hookId, TYPES],
    );
    await queryDb(
      t.databaseUrl,
      `INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, created_at)
       SELECT $1, gen_random_uuid(), now() - g * interval '37 minutes', 'service.started', 2, 'event', now() + interval '1 hour', now() - g * interval '37 minutes'
       FROM generate_series(1, 20) g`,
      [hookId],
    );
  });

  afterAll(async () => {
    await t?.close();
    await receiver.close();
  });

  async function expectStatsExact(): Promise<void> {
    const res = await get(`/api/webhooks/${hookId}/stats?hours=24`).expect(200);
    const since = new Date(res.body.since as string);
    const [ref] = await queryDb<Record<string, unknown>>(t.databaseUrl, REFERENCE_STATS, [hookId, since]);
    const types = await queryDb<{ event_type: string; total: number; succeeded: number; failed: number }>(t.databaseUrl, REFERENCE_TYPES, [hookId, since]);
    expect(res.body).toMatchObject({
      total_attempts: ref.total,
      succeeded: ref.succeeded,
      failed: ref.failed,
      cancelled: ref.cancelled,
      events_delivered: ref.events_delivered,
      avg_duration_ms: round1(ref.avg_ms),
      p95_duration_ms: round1(ref.p95_ms),
    });
    expect(res.body.by_event_type).toEqual(Object.fromEntries(types.map((r) => [r.event_type, { total: r.total, succeeded: r.succeeded, failed: r.failed }])));
    expect(ref.total as number).toBeGreaterThan(1000);
  }

  async function expectSeriesExact(hours: number, bucket: string, seconds: number): Promise<void> {
    const res = await get(`/api/webhooks/${hookId}/stats/timeseries?hours=${hours}&bucket=${bucket}`).expect(200);
    const rows = await queryDb<{ b: string; succeeded: number; failed: number; cancelled: number; retrying: number; pct: Array<number | null> | null }>(
      t.databaseUrl,
      REFERENCE_BUCKETS,
      [new Date(res.body.since as string), seconds, hookId],
    );
    const byStart = new Map(rows.map((r) => [Number(r.b) * 1000, r]));
    const buckets = res.body.buckets as Array<{
      start: string;
      succeeded: number;
      failed: number;
      cancelled: number;
      retrying: number;
      p50_ms: number | null;
      p95_ms: number | null;
    }>;
    for (const b of buckets) {
      const r = byStart.get(new Date(b.start).getTime());
      expect(b).toEqual({
        start: b.start,
        succeeded: r?.succeeded ?? 0,
        failed: r?.failed ?? 0,
        cancelled: r?.cancelled ?? 0,
        retrying: r?.retrying ?? 0,
        p50_ms: round1(r?.pct?.[0] ?? null),
        p95_ms: round1(r?.pct?.[1] ?? null),
      });
    }
    expect(buckets.reduce((n, b) => n + b.succeeded, 0)).toBeGreaterThan(100);
  }

  it('the stats of the last 24 hours: on the first request, from the kept hours, and with an attempt added in the current hour', async () => {
    await expectStatsExact();
    await expectStatsExact();
    await queryDb(
      t.databaseUrl,
      `INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, duration_ms, status_code, created_at, finished_at)
       VALUES ($1, gen_random_uuid(), now(), 'service.started', 1, 'event', 'succeeded', true, now(), 9999, 200, now(), now())`,
      [hookId],
    );
    await expectStatsExact();
  });

  it('the series over all webhooks counts as one aggregate does, from kept hours and the kept beginning of the current one', async () => {
    const check = async () => {
      const res = await get('/api/webhooks/stats/timeseries?hours=30&bucket=1h').expect(200);
      const rows = await queryDb<{ b: string; succeeded: number; failed: number; cancelled: number; retrying: number }>(
        t.databaseUrl,
        REFERENCE_BUCKETS.replace('WHERE webhook_id = $3 AND', 'WHERE $3::uuid IS NOT NULL AND'),
        [new Date(res.body.since as string), 3600, hookId],
      );
      const byStart = new Map(rows.map((r) => [Number(r.b) * 1000, r]));
      for (const b of res.body.buckets as Array<{ start: string; succeeded: number; failed: number; cancelled: number; retrying: number }>) {
        const r = byStart.get(new Date(b.start).getTime());
        expect([b.start, b.succeeded, b.failed, b.cancelled, b.retrying]).toEqual([
          b.start,
          r?.succeeded ?? 0,
          r?.failed ?? 0,
          r?.cancelled ?? 0,
          r?.retrying ?? 0,
        ]);
      }
    };
    await check();
    await check();
    await queryDb(
      t.databaseUrl,
      `INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, duration_ms, status_code, created_at, finished_at)
       VALUES ($1, gen_random_uuid(), now(), 'service.started', 1, 'event', 'failed', false, now(), 5, 500, now(), now())`,
      [hookId],
    );
    await check();
  });

  it('the series in 5-minute, 1-minute, hourly and daily buckets, twice each (the second from the kept hours)', async () => {
    for (const [hours, bucket, seconds] of [
      [24, '5m', 300],
      [6, '1m', 60],
      [30, '1h', 3600],
      [72, '1d', 86400],
    ] as const) {
      await expectSeriesExact(hours, bucket, seconds);
      await expectSeriesExact(hours, bucket, seconds);
    }
  });
});
