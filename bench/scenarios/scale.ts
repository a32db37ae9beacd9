/**
 * 8. Scale (only when asked: BENCH_ONLY=scale; not part of the default run):
 * an attempt log of 10,000,000 attempts (scaled) over 12 daily partitions
 * (bench/lib/seed-scale.ts), then against the built service:
 *  1. the read routes of the reads scenario and the console's other log
 *     views (filters, paging, one attempt, one event, /metrics): p95 of 200
 *     sequential requests each, half for the three biggest webhooks (~1.07
 *     million attempts each) and half for the ten smallest (~320,000);
 *     target < 50 ms each;
 *  2. a backlog drain (10,000 events x 10 webhooks as due attempts, seeded as
 *     the backlog scenario seeds it) on top of the 10-million-row log and on
 *     an empty log, in pairs, the order alternating: drain rate full / empty,
 *     target >= 0.95 (not lower, within the few percent two identical drains
 *     differ by);
 *  3. retention of one day: the service's own RetentionJob.runOnce
 *     (bench/retention-once.ts, the built application context) with
 *     WEBHOOK_LOG_RETENTION_DAYS set so that exactly the oldest day is out of
 *     range; it must drop that day of the log and of the event store and
 *     nothing else; target < 1 s.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Client } from 'pg';
import { canonicalJson } from '../../src/common/canonical-json';
import { NODE_FLAGS } from '../../src/node-flags';
import { scaled } from '../config';
import { eventData, EVENT_TYPE } from '../lib/api';
import { r2, timed, timeRoute } from '../lib/route-timing';
import { truncateDeliveries } from '../lib/db-checks';
import { sampleMetrics } from '../lib/metrics-sampler';
import { CpuMeter, cpuMsPer } from '../lib/proc';
import { SCALE_FULL_DAYS, seedScale } from '../lib/seed-scale';
import { sleep } from '../lib/stats';
import type { Context, Scenario } from './context';

const REQUESTS = 200;
const DRAIN_WEBHOOKS = 10;
/** The drains repeat (at least twice) while the scenario stays within this. */
const SCENARIO_TARGET_S = 600;
const TYPES = ['service.started', 'service.stopped', 'user.created'];

interface Endpoint {
  key: string;
  label: string;
  path: (hook: { id: string; index: number }, i: number) => string;
  /** Per-webhook: reported for the big and the small webhooks apart. */
  perWebhook?: boolean;
}

/** An ISO time `hours` ago, on the minute (as the console sends `since`). */
const ago = (hours: number) => new Date(Math.floor((Date.now() - hours * 3_600_000) / 60_000) * 60_000).toISOString();

/** Set once the data is seeded: 50 recent event ids, and samples of attempts and events from every day. */
const sample = { recentEvents: '', logs: [] as Array<{ id: string; webhook_id: string }>, events: [] as string[] };

const ENDPOINTS: Endpoint[] = [
  { key: 'logs', label: 'GET /api/webhooks/{id}/logs?limit=50', path: (h) => `/api/webhooks/${h.id}/logs?limit=50`, perWebhook: true },
  {
    key: 'logs_24h',
    label: 'GET /api/webhooks/{id}/logs?limit=25&since=<24 h ago> (the console)',
    path: (h) => `/api/webhooks/${h.id}/logs?limit=25&since=${ago(24)}`,
    perWebhook: true,
  },
  {
    key: 'logs_page',
    label: 'GET /api/webhooks/{id}/logs?limit=25&offset=500&since=<24 h ago> (page 21)',
    path: (h) => `/api/webhooks/${h.id}/logs?limit=25&offset=500&since=${ago(24)}`,
    perWebhook: true,
  },
  {
    key: 'logs_failed_7d',
    label: 'GET /api/webhooks/{id}/logs?limit=25&status=failed&since=<7 days ago>',
    path: (h) => `/api/webhooks/${h.id}/logs?limit=25&status=failed&since=${ago(168)}`,
    perWebhook: true,
  },
  {
    key: 'logs_type',
    label: 'GET /api/webhooks/{id}/logs?limit=25&event_type=<one of its types>&since=<24 h ago>',
    path: (h) => `/api/webhooks/${h.id}/logs?limit=25&event_type=${TYPES[h.index % 3]}&since=${ago(24)}`,
    perWebhook: true,
  },
  {
    key: 'logs_window',
    label: 'GET /api/webhooks/{id}/logs?limit=25&since=&until= (one hour, 5 days ago)',
    path: (h) => `/api/webhooks/${h.id}/logs?limit=25&since=${ago(121)}&until=${ago(120)}`,
    perWebhook: true,
  },
  {
    key: 'log_detail',
    label: 'GET /api/webhooks/{id}/logs/{logId} (any day)',
    path: (_h, i) => `/api/webhooks/${sample.logs[i % sample.logs.length].webhook_id}/logs/${sample.logs[i % sample.logs.length].id}`,
  },
  { key: 'stats', label: 'GET /api/webhooks/{id}/stats', path: (h) => `/api/webhooks/${h.id}/stats`, perWebhook: true },
  { key: 'recent', label: 'GET /api/webhooks/logs/recent?hours=24&limit=50', path: () => `/api/webhooks/logs/recent?hours=24&limit=50` },
  {
    key: 'recent_failed',
    label: 'GET /api/webhooks/logs/recent?hours=24&limit=25&status=failed',
    path: () => `/api/webhooks/logs/recent?hours=24&limit=25&status=failed`,
  },
  {
    key: 'ts_webhook',
    label: 'GET /api/webhooks/{id}/stats/timeseries?hours=24&bucket=5m',
    path: (h) => `/api/webhooks/${h.id}/stats/timeseries?hours=24&bucket=5m`,
    perWebhook: true,
  },
  { key: 'ts_overall', label: 'GET /api/webhooks/stats/timeseries?hours=24&bucket=1h', path: () => `/api/webhooks/stats/timeseries?hours=24&bucket=1h` },
  { key: 'ts_overall_7d', label: 'GET /api/webhooks/stats/timeseries?hours=168&bucket=6h', path: () => `/api/webhooks/stats/timeseries?hours=168&bucket=6h` },
  { key: 'overview', label: 'GET /api/webhooks/stats/overview?hours=24', path: () => `/api/webhooks/stats/overview?hours=24` },
  { key: 'event_detail', label: 'GET /api/events/{id} (any day)', path: (_h, i) => `/api/events/${sample.events[i % sample.events.length]}` },
  { key: 'event_summary', label: 'GET /api/events/delivery-summary?ids=<50 events>', path: () => `/api/events/delivery-summary?ids=${sample.recentEvents}` },
  { key: 'metrics', label: 'GET /metrics', path: () => `/metrics` },
];
/** Reference, no target: auth, one primary-key read and the JSON answer; what every route costs at least. */
const BASELINE: Endpoint = { key: 'baseline', label: 'GET /api/webhooks/{id} (reference)', path: (h) => `/api/webhooks/${h.id}` };

/** 1. The read routes against the big log. */
async function reads(ctx: Context, url: string, db: Client, ids: string[]): Promise<void> {
  const { rows: recent } = await db.query<{ id: string }>(`SELECT id FROM webhook_events ORDER BY created_at DESC LIMIT 50`);
  sample.recentEvents = recent.map((e) => e.id).join(',');
  // a few rows from every day (TABLESAMPLE reads random pages of each partition), shuffled
  const { rows: logs } = await db.query<{ id: string; webhook_id: string }>(
    `SELECT id, webhook_id FROM webhook_logs TABLESAMPLE SYSTEM (0.02) REPEATABLE (7) ORDER BY md5(id::text) LIMIT 200`,
  );
  const { rows: events } = await db.query<{ id: string }>(
    `SELECT id FROM webhook_events TABLESAMPLE SYSTEM (0.05) REPEATABLE (7) ORDER BY md5(id::text) LIMIT 200`,
  );
  sample.logs = logs;
  sample.events = events.map((e) => e.id);
  const big = ids.slice(0, 3).map((id, index) => ({ id, index }));
  const small = ids.slice(10).map((id, i) => ({ id, index: 10 + i }));
  const svc = await ctx.startService('scale', url);
  try {
    const api = await ctx.login(svc, 1);
    const cold = {
      overview_24h_ms: r2(await timed(api, '/api/webhooks/stats/overview?hours=24')),
      ts_overall_7d_ms: r2(await timed(api, '/api/webhooks/stats/timeseries?hours=168&bucket=6h')),
    };
    ctx.log(`  first requests of the fresh service (rollups built): overview 24 h ${cold.overview_24h_ms} ms, then 7-day series ${cold.ts_overall_7d_ms} ms`);
    for (const e of ENDPOINTS) for (let i = 0; i < 10; i++) await timed(api, e.path(i % 2 ? big[i % big.length] : small[i % small.length], i));
    const results: Record<string, Record<string, number>> = {};
    const p95: Record<string, number> = {};
    for (const e of [...ENDPOINTS, BASELINE]) {
      const d = await timeRoute(
        api,
        REQUESTS,
        (i, isBig) => (isBig ? big[(i / 2) % big.length] : small[((i - 1) / 2) % small.length]),
        e.path,
        e.perWebhook === true,
      );
      p95[e.key] = d.p95;
      results[e.key] = d.summary;
      ctx.log(
        `  ${e.label}: p50 ${d.p50.toFixed(1)} ms, p95 ${d.p95.toFixed(1)} ms, max ${d.max.toFixed(1)} ms${e.perWebhook ? ` (p95 big ${results[e.key].big_p95_ms}, small ${results[e.key].small_p95_ms})` : ''}`,
      );
    }
    const figures = ENDPOINTS.map((e) =>
      ctx.report.add('scale', `scale_${e.key}_p95_ms`, `10M log: p95 ${e.label}`, 'ms', [p95[e.key]], { op: '<', value: 50 }),
    );
    ctx.report.add('scale', 'scale_baseline_p95_ms', `10M log: p95 ${BASELINE.label}`, 'ms', [p95.baseline]);
    // the plans of the three slowest routes, for the biggest webhook, with their real parameters
    const slowest = [...figures].sort((a, b) => b.value - a.value).slice(0, 3);
    const plans: Record<string, unknown> = {};
    for (const f of slowest) {
      const e = ENDPOINTS.find((x) => `scale_${x.key}_p95_ms` === f.key)!;
      plans[e.key] = await ctx.pg.capturePlans(
        async () => void (await timed(api, e.path(big[0], 0))),
        (text) => /webhook_logs|webhook_attempts|webhook_events|delivery_queue/.test(text) && !/\bUPDATE\b|FOR UPDATE/.test(text),
      );
    }
    await api.close();
    ctx.report.detail('scale', {
      reads: {
        requests_per_endpoint: REQUESTS,
        cold_first_requests: cold,
        endpoints: results,
        slowest: slowest.map((f) => f.key),
        explain_biggest_webhook: plans,
      },
    });
  } finally {
    await svc.stop();
  }
}

/** The backlog scenario's backlog for the given webhooks, all with one created_at (so that its attempts can be counted by the log's created_at index). */
async function insertBacklog(db: Client, events: number, webhookIds: string[], at: Date): Promise<number> {
  const res = await db.query(
    `WITH ev AS (
       INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at)
       SELECT atlas_uuid_v7(), $1, $2::json, $3, $3 FROM generate_series(1, $4::int)
       RETURNING id, created_at)
     INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, created_at)
     SELECT w, ev.id, ev.created_at, $1, 1, 'event', ev.created_at, ev.created_at FROM ev CROSS JOIN unnest($5::uuid[]) w`,
    [EVENT_TYPE, canonicalJson(eventData(1)), at, events, webhookIds],
  );
  await db.query('ANALYZE delivery_queue');
  return res.rowCount ?? 0;
}

/** Waits until the queue is empty and `expected` attempts created at `at` are in the log as succeeded. */
async function waitForLogged(db: Client, at: Date, expected: number, timeoutMs = 60_000): Promise<{ queued: number; succeeded: number }> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const { rows } = await db.query<{ queued: number; succeeded: number }>(
      `SELECT (SELECT count(*)::int FROM delivery_queue) AS queued,
              (SELECT count(*)::int FROM webhook_logs WHERE created_at = $1 AND status = 'succeeded') AS succeeded`,
      [at],
    );
    if ((rows[0].queued === 0 && rows[0].succeeded >= expected) || Date.now() > deadline) return rows[0];
    await sleep(100);
  }
}

interface Drain {
  rate: number;
  detail: Record<string, unknown>;
}

/** One drain of `events` x the webhooks, by a freshly started service. */
async function drain(ctx: Context, url: string, db: Client, events: number, webhookIds: string[]): Promise<Drain> {
  const attempts = events * webhookIds.length;
  const at = new Date(Date.now() - 10 * 60_000);
  const inserted = await insertBacklog(db, events, webhookIds, at);
  if (inserted !== attempts) throw new Error(`inserted ${inserted} attempts, expected ${attempts}`);
  await ctx.receiver.reset();
  const svc = await ctx.startService('scale', url);
  const cpu = new CpuMeter(ctx.cpuTargets(svc));
  const metrics = sampleMetrics(svc.baseUrl, Number(ctx.cfg.serviceEnv.WEBHOOK_MAX_IN_FLIGHT));
  try {
    const got = await ctx.receiver.waitFor(attempts);
    const service = await metrics.stop();
    const cores = cpu.stop();
    const logged = await waitForLogged(db, at, attempts);
    const rate = got.count / ((got.last - got.first) / 1000);
    if (got.count < attempts) throw new Error(`only ${got.count} of ${attempts} attempts were delivered`);
    if (logged.succeeded !== attempts || logged.queued !== 0)
      throw new Error(`the log holds ${logged.succeeded} of ${attempts} attempts (${logged.queued} still queued)`);
    return {
      rate,
      detail: {
        attempts,
        delivered: got.count,
        duplicates: got.duplicates,
        seconds_from_spawn: r2((got.last - svc.spawnedAt) / 1000),
        seconds_first_to_last: r2((got.last - got.first) / 1000),
        deliveries_per_s: Math.round(rate),
        cpu_ms_per_delivery_after_ready: cpuMsPer(cpu, got.count, ['service', 'postgres']),
        cores_used_after_ready: cores,
        service_metrics: { ...service, series: undefined },
      },
    };
  } finally {
    await metrics.stop();
    await svc.stop();
  }
}

/** 2. The backlog drain on the big log against the same on an empty one, in pairs. */
async function drains(ctx: Context, full: { url: string; db: Client; ids: string[] }, scenarioStart: number): Promise<void> {
  const events = scaled(ctx.cfg, 10_000, 2_000);
  const emptyName = 'bench_scale_empty';
  const emptyUrl = await ctx.pg.createDatabase(emptyName);
  const emptyDb = await ctx.pg.connect(emptyName);
  const fullRates: number[] = [];
  const emptyRates: number[] = [];
  const ratios: number[] = [];
  const runs: Array<Record<string, unknown>> = [];
  try {
    const emptyIds: string[] = [];
    for (let i = 0; i < DRAIN_WEBHOOKS; i++) {
      const { rows } = await emptyDb.query<{ id: string }>(`INSERT INTO webhooks (name, url, secret, events) VALUES ($1, $2, $3, $4) RETURNING id`, [
        `scale-${String(i).padStart(2, '0')}`,
        ctx.receiver.url(i),
        ctx.secret,
        [EVENT_TYPE],
      ]);
      emptyIds.push(rows[0].id);
    }
    // the seeded webhooks 0-9 are on receiver ports 0-9, as the empty database's ten
    const fullIds = full.ids.slice(0, DRAIN_WEBHOOKS);
    // pairs while the scenario stays within ~10 minutes (at least two, at most BENCH_RUNS)
    let longest = 0;
    for (let r = 0; r < ctx.cfg.runs; r++) {
      if (r >= 2 && (performance.now() - scenarioStart) / 1000 + longest > SCENARIO_TARGET_S) {
        ctx.log(`  drains: ${r} of ${ctx.cfg.runs} pairs (another would take the scenario past ${SCENARIO_TARGET_S} s)`);
        break;
      }
      const p0 = performance.now();
      {
        const pair: Record<string, Drain> = {};
        // the order alternates, so that a trend of the machine does not favour one side
        for (const side of r % 2 === 0 ? (['empty', 'full'] as const) : (['full', 'empty'] as const)) {
          // the queue starts empty and unbloated on both sides (the previous drain deleted its rows); only the log differs
          if (side === 'empty') {
            await truncateDeliveries(emptyDb);
            pair.empty = await drain(ctx, emptyUrl, emptyDb, events, emptyIds);
          } else {
            await full.db.query('TRUNCATE delivery_queue');
            pair.full = await drain(ctx, full.url, full.db, events, fullIds);
          }
          ctx.log(`  drain run ${r + 1}, ${side === 'full' ? 'on the 10M log' : 'on an empty log'}: ${Math.round(pair[side].rate)} deliveries/s`);
        }
        emptyRates.push(pair.empty.rate);
        fullRates.push(pair.full.rate);
        ratios.push(pair.full.rate / pair.empty.rate);
        runs.push({
          order: r % 2 === 0 ? 'empty, full' : 'full, empty',
          empty: pair.empty.detail,
          full: pair.full.detail,
          ratio: r2(pair.full.rate / pair.empty.rate),
        });
        ctx.log(`  drain run ${r + 1}: full / empty = ${(pair.full.rate / pair.empty.rate).toFixed(3)}`);
      }
      longest = Math.max(longest, (performance.now() - p0) / 1000);
    }
  } finally {
    await emptyDb.end();
    await ctx.pg.dropDatabase(emptyName);
  }
  ctx.report.add('scale', 'scale_drain_empty_dps', `backlog of ${events * DRAIN_WEBHOOKS} drained, empty log`, 'deliveries/s', emptyRates);
  ctx.report.add('scale', 'scale_drain_full_dps', `backlog of ${events * DRAIN_WEBHOOKS} drained, on the 10M log`, 'deliveries/s', fullRates);
  ctx.report.add('scale', 'scale_drain_ratio', 'drain rate on the 10M log / on an empty log (paired)', 'ratio', ratios, { op: '>=', value: 0.95 });
  ctx.report.detail('scale', { drains: { events, webhooks: DRAIN_WEBHOOKS, attempts: events * DRAIN_WEBHOOKS, runs } });
}

/** Runs dist/bench/retention-once.js: the service's RetentionJob.runOnce, timed inside the process. */
function retentionOnce(
  ctx: Context,
  url: string,
  days: number,
): Promise<{ ms: number; wallMs: number; result: { dropped: string[]; created: string[]; deletedRows: number } }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, join(__dirname, '..', 'retention-once.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...ctx.cfg.serviceEnv,
        DATABASE_URL: url,
        WEBHOOK_WORKER: 'false',
        WEBHOOK_LOG_RETENTION_DAYS: String(days),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`retention-once exited with ${code}: ${err || out}`));
      try {
        resolve({
          ...(JSON.parse(out.trim().split('\n').pop()!) as { ms: number; result: { dropped: string[]; created: string[]; deletedRows: number } }),
          wallMs: performance.now() - t0,
        });
      } catch {
        reject(new Error(`retention-once printed no result: ${out} ${err}`));
      }
    });
  });
}

/** 3. Retention of exactly the oldest day, by the service's own code. */
async function retention(ctx: Context, url: string, db: Client, oldestDay: string): Promise<void> {
  const stamp = oldestDay.replaceAll('-', '');
  const expected = [`webhook_logs_p${stamp}`, `webhook_events_p${stamp}`];
  const count = async (table: string) => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  const before = { log_rows: await count(expected[0]), event_rows: await count(expected[1]), log_total: await count('webhook_logs') };
  const mb =
    Number((await db.query<{ b: string }>(`SELECT pg_total_relation_size($1::regclass) + pg_total_relation_size($2::regclass) AS b`, expected)).rows[0].b) /
    2 ** 20;
  // data from midnight UTC SCALE_FULL_DAYS days ago: with one day less of retention, exactly that first day lies wholly before the cutoff
  const days = SCALE_FULL_DAYS - 1;
  const run = await retentionOnce(ctx, url, days);
  const dropped = [...run.result.dropped].sort();
  if (JSON.stringify(dropped) !== JSON.stringify([...expected].sort()))
    throw new Error(`retention of ${days} days dropped ${JSON.stringify(run.result.dropped)}, expected exactly ${JSON.stringify(expected)}`);
  const after = await count('webhook_logs');
  if (after !== before.log_total - before.log_rows)
    throw new Error(`the log holds ${after} rows after retention, expected ${before.log_total - before.log_rows}`);
  ctx.log(
    `  retention (${days} days) dropped ${dropped.join(', ')} (${before.log_rows} attempts, ${before.event_rows} events, ${Math.round(mb)} MB) in ${run.ms} ms (the pass, RetentionJob.runOnce); process ${Math.round(run.wallMs)} ms`,
  );
  ctx.report.add(
    'scale',
    'scale_retention_day_ms',
    `retention of one day (${before.log_rows} attempts + ${before.event_rows} events): RetentionJob.runOnce`,
    'ms',
    [run.ms],
    {
      op: '<',
      value: 1000,
    },
  );
  ctx.report.detail('scale', {
    retention: {
      retention_days: days,
      dropped,
      created: run.result.created,
      deleted_rows_of_default_partitions: run.result.deletedRows,
      attempts_dropped: before.log_rows,
      events_dropped: before.event_rows,
      mb_dropped: Math.round(mb),
      log_rows_before: before.log_total,
      log_rows_after: after,
      run_once_ms: run.ms,
      process_wall_ms: Math.round(run.wallMs),
    },
  });
}

export const scaleScenario: Scenario = {
  name: 'scale',
  title: 'A log of 10,000,000 attempts: the read routes, a backlog drain against an empty log, retention of one day',
  async run(ctx) {
    const t0 = performance.now();
    const attempts = scaled(ctx.cfg, 10_000_000, 200_000);
    const dbName = 'bench_scale';
    const url = await ctx.pg.createDatabase(dbName);
    const db = await ctx.pg.connect(dbName);
    const helper = await ctx.pg.connect(dbName);
    try {
      ctx.log(`  seeding ${attempts} attempts (two connections; BENCH_SCALE scales it)`);
      const seeded = await seedScale([db, helper], url, attempts, (i) => ctx.receiver.url(i), ctx.secret);
      ctx.log(
        `  seeded ${seeded.attempts} attempts, ${seeded.events} events over ${seeded.days.length} days (${seeded.table_mb.webhook_logs} + ${seeded.table_mb.webhook_events} MB) in ${seeded.seconds.total} s: ${JSON.stringify(seeded.seconds)}`,
      );
      ctx.report.add('scale', 'scale_seed_s', `seeding ${seeded.attempts} attempts (insert, indexes, VACUUM ANALYZE)`, 's', [seeded.seconds.total]);
      ctx.report.detail('scale', { seeded: { ...seeded, webhookIds: undefined } });
      const { rows: sizes } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_logs GROUP BY webhook_id ORDER BY 1 DESC`);
      ctx.report.detail('scale', { attempts_per_webhook: sizes.map((s) => s.n) });

      await reads(ctx, url, db, seeded.webhookIds);
      await drains(ctx, { url, db, ids: seeded.webhookIds }, t0);
      await retention(ctx, url, db, seeded.days[0].day);
    } finally {
      await helper.end();
      await db.end();
      await ctx.pg.dropDatabase(dbName);
    }
  },
};
