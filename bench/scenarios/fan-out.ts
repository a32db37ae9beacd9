/**
 * 5. Fan-out cost: the time from an event's insert (its created_at) to the
 * commit of the fan-out transaction that created its pending attempts
 * (pg_xact_commit_timestamp of the attempts' xmin; track_commit_timestamp is
 * on), with 10 webhooks registered vs 10,000 registered of which the same 10
 * match. Events are emitted through the API at a steady 25/s so each
 * fan-out is measured on its own, not queued behind others (after 30
 * warm-up events). The service runs
 * with WEBHOOK_WORKER=false: it fans out exactly as a worker does but sends
 * nothing, so the attempt rows keep the fan-out transaction's xmin.
 *
 * A third run has all 10,000 webhooks carry a payload filter: 20 subscribe
 * to the emitted type, of which the 10 whose filter matches the event data
 * get attempts (the other 10 are filtered out), and the 9,980 others (other
 * types) carry filters too. Same events, same 10 attempts each: the cost of
 * the filters is the difference to the unfiltered 10,000 run (target: within
 * 2x).
 */
import type { Client } from 'pg';
import { scaled } from '../config';
import { truncateDeliveries } from '../lib/db-checks';
import { distribution, sleep } from '../lib/stats';
import type { Context, Scenario } from './context';

const MATCHING = 10;
const RATE = 25;
const WARM_UP = 30;
const OTHER_SUBSCRIPTIONS = ['user.created', 'user.*', 'domain.cert_issued', 'domain.*', 'backup.created', 'system.error', 'system.*', 'user.deleted'];

/** Matches bench/lib/api.ts eventData(i) for every i. */
const MATCHING_FILTER = {
  'data.name': { $in: ['nginx', 'api'] },
  'data.port': { $gte: 1024 },
  'data.owner.name': 'ops-team',
  $or: [{ 'data.tags.0': 'web' }, { 'data.version': { $exists: false } }],
};
/** Fails on eventData(i)'s last condition only (the whole filter is evaluated). */
const FAILING_FILTER = { 'data.name': { $in: ['nginx', 'api'] }, 'data.port': { $gte: 1024 }, 'data.owner.name': { $neq: 'ops-team' } };

async function insertOtherWebhooks(db: Client, n: number, url: string, secret: string, filter: unknown = null): Promise<void> {
  await db.query(
    `INSERT INTO webhooks (name, url, secret, events, filter)
     SELECT 'other-' || g, $1, $2, ARRAY[($3::text[])[1 + g % cardinality($3::text[])]], $5::jsonb
     FROM generate_series(1, $4::int) g`,
    [url, secret, OTHER_SUBSCRIPTIONS, n, filter === null ? null : JSON.stringify(filter)],
  );
  await db.query('ANALYZE webhooks');
}

/** The filtered run's webhooks besides the 10 matching ones: 10 of the emitted type filtered out, the rest on other types, all with filters. */
async function insertFilteredWebhooks(db: Client, n: number, url: string, secret: string): Promise<void> {
  await db.query(`UPDATE webhooks SET filter = $1::jsonb`, [JSON.stringify(MATCHING_FILTER)]);
  await db.query(
    `INSERT INTO webhooks (name, url, secret, events, filter)
     SELECT 'filtered-out-' || g, $1, $2, ARRAY['service.started'], $3::jsonb FROM generate_series(1, $4::int) g`,
    [url, secret, JSON.stringify(FAILING_FILTER), MATCHING],
  );
  await insertOtherWebhooks(db, n - MATCHING, url, secret, { 'data.name': { $eq: 'nginx' }, 'data.port': { $lt: 10 } });
}

/** Per event: ms from its insert to the commit of its fan-out; and how many attempts it got. */
async function fanOutTimes(db: Client): Promise<{ ms: number[]; attempts: number[] }> {
  const { rows } = await db.query<{ ms: number; n: number }>(
    `SELECT extract(epoch FROM max(pg_xact_commit_timestamp(l.xmin)) - e.created_at) * 1000 AS ms, count(*)::int AS n
     FROM webhook_events e JOIN delivery_queue l ON l.event_id = e.id
     GROUP BY e.id, e.created_at`,
  );
  return { ms: rows.map((r) => Number(r.ms)), attempts: rows.map((r) => r.n) };
}

async function waitFannedOut(db: Client, events: number, attempts: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { rows } = await db.query<{ unfanned: number; logs: number }>(
      `SELECT (SELECT count(*)::int FROM webhook_events WHERE fanned_out_at IS NULL) AS unfanned, (SELECT count(*)::int FROM delivery_queue) AS logs`,
    );
    if (rows[0].unfanned === 0 && rows[0].logs >= attempts) return;
    await sleep(100);
  }
  throw new Error(`fan-out of ${events} events did not finish within 60 s`);
}

async function variant(ctx: Context, registered: number, share: number, filtered = false): Promise<{ medians: number[]; details: Record<string, unknown> }> {
  const dbName = `bench_fanout_${registered}${filtered ? '_filtered' : ''}`;
  const label = `${registered}${filtered ? ', all filtered' : ''}`;
  const url = await ctx.pg.createDatabase(dbName);
  const db = await ctx.pg.connect(dbName);
  const svc = await ctx.startService('fanout', url, { WEBHOOK_WORKER: 'false' });
  const events = scaled(ctx.cfg, 100, 50);
  const medians: number[] = [];
  const runs: Record<string, unknown>[] = [];
  let plans: unknown[];
  try {
    const api = await ctx.login(svc, 8);
    await ctx.createWebhooks(api, MATCHING);
    if (filtered) await insertFilteredWebhooks(db, registered - MATCHING, ctx.receiver.url(0), ctx.secret);
    else if (registered > MATCHING) await insertOtherWebhooks(db, registered - MATCHING, ctx.receiver.url(0), ctx.secret);
    for (let i = 0; i < WARM_UP; i++) await api.emit(i);
    await waitFannedOut(db, WARM_UP, WARM_UP * MATCHING);
    await ctx.pg.resetStatements();
    await ctx.repeat(
      `fan-out (${label})`,
      async (r) => {
        await truncateDeliveries(db);
        const pending: Promise<unknown>[] = [];
        const t0 = performance.now();
        let sent = 0;
        while (sent < events) {
          const due = Math.min(events, Math.floor((performance.now() - t0) / (1000 / RATE)) + 1);
          while (sent < due) pending.push(api.emit(sent++));
          await sleep(2);
        }
        await Promise.all(pending);
        await waitFannedOut(db, events, events * MATCHING);
        const { ms, attempts } = await fanOutTimes(db);
        if (ms.length !== events || attempts.some((n) => n !== MATCHING)) {
          throw new Error(`expected ${events} events with ${MATCHING} attempts each, got ${ms.length} events, attempts ${[...new Set(attempts)].join('/')}`);
        }
        const d = distribution(ms);
        medians.push(d.p50);
        runs.push({ events, fan_out_ms: Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Math.round(v * 100) / 100])) });
        ctx.log(`  fan-out, ${label} webhooks registered, run ${r + 1}: median ${d.p50.toFixed(2)} ms, p95 ${d.p95.toFixed(2)} ms (${events} events)`);
      },
      share,
    );
    const statements = (await ctx.pg.topStatements(dbName, 30)).filter((s) => /webhook|&&/.test(s.query)).slice(0, 6);
    // the plan of the subscriber query, from one more event
    await truncateDeliveries(db);
    plans = await ctx.pg.capturePlans(
      async () => {
        await api.emit(0);
        await waitFannedOut(db, 1, MATCHING);
      },
      (text) => text.includes('&&'),
    );
    await api.close();
    return {
      medians,
      details: { registered, filtered, matching: MATCHING, rate: RATE, runs, top_statements: statements, subscriber_query_plan: plans[0] ?? null },
    };
  } finally {
    await svc.stop();
    await db.end();
    await ctx.pg.dropDatabase(dbName);
  }
}

export const fanOutScenario: Scenario = {
  name: 'fanout',
  title: 'Fan-out cost: 10 vs 10,000 registered webhooks (10 match), and 10,000 all carrying payload filters',
  async run(ctx) {
    const small = await variant(ctx, MATCHING, 0.5);
    const large = await variant(ctx, 10_000, 1);
    const filtered = await variant(ctx, 10_000, 1, true);
    ctx.report.add('fanout', 'fanout_10_ms', 'fan-out per event, 10 webhooks', 'ms', small.medians);
    ctx.report.add('fanout', 'fanout_10k_ms', 'fan-out per event, 10,000 webhooks (10 match)', 'ms', large.medians);
    const ratios = large.medians.map((v, i) => v / small.medians[Math.min(i, small.medians.length - 1)]);
    ctx.report.add('fanout', 'fanout_ratio', 'fan-out 10,000 / 10', 'ratio', ratios, { op: '<=', value: 2 });
    ctx.report.add('fanout', 'fanout_10k_filtered_ms', 'fan-out per event, 10,000 webhooks all with filters (10 match)', 'ms', filtered.medians);
    const filterRatios = filtered.medians.map((v, i) => v / large.medians[Math.min(i, large.medians.length - 1)]);
    ctx.report.add('fanout', 'fanout_filter_ratio', 'fan-out 10,000 filtered / 10,000 unfiltered', 'ratio', filterRatios, { op: '<=', value: 2 });
    ctx.report.detail('fanout', { small: small.details, large: large.details, filtered: filtered.details });
  },
};
