/**
 * 7. Reads at scale: 1,000,000 attempts (scaled) over 1,000 webhooks
 * (bench/lib/seed-reads.ts), then p95 of
 *   GET /api/webhooks/{id}/logs?limit=50
 *   GET /api/webhooks/{id}/stats
 *   GET /api/webhooks/logs/recent?hours=24&limit=50
 * and the console's aggregates (src/delivery/timeseries.service.ts):
 *   GET /api/webhooks/{id}/stats/timeseries?hours=24&bucket=5m
 *   GET /api/webhooks/stats/timeseries?hours=24&bucket=1h (and 7 days by 6 h)
 *   GET /api/webhooks/stats/overview?hours=24
 *   GET /api/events/delivery-summary?ids=<50 recent events>
 * and the event searches over 1,000,000 events (bench/lib/seed-events.ts):
 * latest, by type, by category in a day's window, by a data field (a value
 * in 20, in 1,000, a unique one), type and data field together, and a page
 * 90% deep by cursor (by type, by data field)
 * (the series over all webhooks and the overview reuse hourly rollups for
 * 60 s: the cost of building them, the first request of the fresh service,
 * is logged and kept in the JSON as `cold_first_requests`)
 * over 200 sequential requests each per run, half for the 10 biggest
 * webhooks and half for small ones (target p95 < 50 ms each); and
 * GET /api/webhooks/{id} as a reference for what any authenticated route
 * costs. Afterwards one request per endpoint for the biggest webhook runs
 * with auto_explain on, and the plans (EXPLAIN ANALYZE, BUFFERS) of the
 * service's own queries are kept, the slowest endpoint's first.
 */
import { scaled } from '../config';
import { EVENT_TYPES } from '../../src/events/event-catalogue';
import { SEARCH_SERVICES, seedEvents, SeededEvents } from '../lib/seed-events';
import { seedReads, webhooksBySize } from '../lib/seed-reads';
import { timed, timeRoute } from '../lib/route-timing';
import type { Scenario } from './context';

const REQUESTS = 200;
const SEARCH_TYPES = EVENT_TYPES.filter((t) => t !== 'webhook.test');

type Key =
  | 'logs'
  | 'stats'
  | 'recent'
  | 'ts_webhook'
  | 'ts_overall'
  | 'ts_overall_7d'
  | 'overview'
  | 'event_summary'
  | 'events_latest'
  | 'events_type'
  | 'events_category_window'
  | 'events_data_common'
  | 'events_data_middling'
  | 'events_data_rare'
  | 'events_type_data'
  | 'events_deep_type'
  | 'events_deep_data'
  | 'baseline';

interface Endpoint {
  key: Key;
  label: string;
  path: (webhookId: string, i: number) => string;
  /** Per-webhook: reported for the big and the small webhooks apart. */
  perWebhook?: boolean;
}

/** 50 recent event ids, set once the data is seeded (the events page asks for one page of them). */
let recentEventIds = '';
/** Set once the events are seeded (bench/lib/seed-events.ts). */
let seededEvents: SeededEvents | undefined;
const day = (daysAgo: number) => new Date(Math.floor(Date.now() / 86_400_000 - daysAgo) * 86_400_000).toISOString();

const ENDPOINTS: Endpoint[] = [
  { key: 'logs', label: 'GET /api/webhooks/{id}/logs?limit=50', path: (id) => `/api/webhooks/${id}/logs?limit=50`, perWebhook: true },
  { key: 'stats', label: 'GET /api/webhooks/{id}/stats', path: (id) => `/api/webhooks/${id}/stats`, perWebhook: true },
  { key: 'recent', label: 'GET /api/webhooks/logs/recent?hours=24&limit=50', path: () => `/api/webhooks/logs/recent?hours=24&limit=50` },
  {
    key: 'ts_webhook',
    label: 'GET /api/webhooks/{id}/stats/timeseries?hours=24&bucket=5m',
    path: (id) => `/api/webhooks/${id}/stats/timeseries?hours=24&bucket=5m`,
    perWebhook: true,
  },
  { key: 'ts_overall', label: 'GET /api/webhooks/stats/timeseries?hours=24&bucket=1h', path: () => `/api/webhooks/stats/timeseries?hours=24&bucket=1h` },
  { key: 'ts_overall_7d', label: 'GET /api/webhooks/stats/timeseries?hours=168&bucket=6h', path: () => `/api/webhooks/stats/timeseries?hours=168&bucket=6h` },
  { key: 'overview', label: 'GET /api/webhooks/stats/overview?hours=24', path: () => `/api/webhooks/stats/overview?hours=24` },
  { key: 'event_summary', label: 'GET /api/events/delivery-summary?ids=<50 events>', path: () => `/api/events/delivery-summary?ids=${recentEventIds}` },
  // event searches over 1,000,000 events (issue 14): each request varies the value searched
  { key: 'events_latest', label: 'GET /api/events?limit=50 (total counted up to 10,000)', path: () => `/api/events?limit=50` },
  { key: 'events_type', label: 'GET /api/events?type=<type>&limit=50', path: (_id, i) => `/api/events?type=${SEARCH_TYPES[i % SEARCH_TYPES.length]}&limit=50` },
  {
    key: 'events_category_window',
    label: 'GET /api/events?category=user&since=<day N>&until=<day N+1> (N 1..28 days ago)',
    path: (_id, i) => `/api/events?category=user&since=${day(2 + (i % 27))}&until=${day(1 + (i % 27))}&limit=50`,
  },
  {
    key: 'events_data_common',
    label: 'GET /api/events?data.service=<1 event in 20>&limit=50',
    path: (_id, i) => `/api/events?data.service=${SEARCH_SERVICES[i % SEARCH_SERVICES.length]}&limit=50`,
  },
  {
    key: 'events_data_middling',
    label: 'GET /api/events?data.domain=<1 event in 1,000>&limit=50',
    path: (_id, i) => `/api/events?data.domain=d${(i * 37) % 1000}.example.com&limit=50`,
  },
  {
    key: 'events_data_rare',
    label: 'GET /api/events?data.request_id=<1 event>',
    path: (_id, i) => `/api/events?data.request_id=req-${1 + ((i * 7919) % Math.max(1, seededEvents?.added ?? 1))}`,
  },
  {
    key: 'events_type_data',
    label: 'GET /api/events?type=service.started&data.node=<1 in 50>&limit=50',
    path: (_id, i) => `/api/events?type=service.started&data.node=node-${i % 50}&limit=50`,
  },
  {
    key: 'events_deep_type',
    label: 'GET /api/events?type=service.started&cursor=<90% deep>&limit=50',
    path: () => `/api/events?type=service.started&cursor=${seededEvents?.deep_cursor_type}&limit=50`,
  },
  {
    key: 'events_deep_data',
    label: 'GET /api/events?data.service=nginx&cursor=<90% deep>&limit=50',
    path: () => `/api/events?data.service=nginx&cursor=${seededEvents?.deep_cursor_data}&limit=50`,
  },
];
/** Reference, no target: auth, one primary-key read and the JSON answer; what every route costs at least. */
const BASELINE: Endpoint = { key: 'baseline', label: 'GET /api/webhooks/{id} (reference)', path: (id) => `/api/webhooks/${id}` };

export const readsScenario: Scenario = {
  name: 'reads',
  title: 'Reads at scale: logs, stats, recent and the console aggregates over 1,000,000 attempts',
  async run(ctx) {
    const attempts = scaled(ctx.cfg, 1_000_000, 100_000);
    const dbName = 'bench_reads';
    const url = await ctx.pg.createDatabase(dbName);
    const db = await ctx.pg.connect(dbName);
    let svc: Awaited<ReturnType<typeof ctx.startService>> | undefined;
    try {
      const t0 = performance.now();
      const seeded = await seedReads(db, attempts, ctx.receiver.url(0), ctx.secret);
      const seedSeconds = (performance.now() - t0) / 1000;
      ctx.log(`  seeded ${JSON.stringify(seeded)} in ${seedSeconds.toFixed(1)} s`);
      seededEvents = await seedEvents(db, scaled(ctx.cfg, 1_000_000, 100_000));
      ctx.log(`  events for the searches: ${JSON.stringify(seededEvents)}`);
      const bySize = await webhooksBySize(db);
      const big = bySize.slice(0, 10);
      const small = bySize.slice(100);
      const { rows: eventRows } = await db.query<{ id: string }>(`SELECT id FROM webhook_events ORDER BY created_at DESC LIMIT 50`);
      recentEventIds = eventRows.map((e) => e.id).join(',');
      svc = await ctx.startService('reads', url);
      const api = await ctx.login(svc, 1);
      const p95 = Object.fromEntries([...ENDPOINTS, BASELINE].map((e) => [e.key, [] as number[]])) as Record<Key, number[]>;
      const runs: Array<Record<string, unknown>> = [];
      // the first request of a fresh service builds the hourly rollups of the overall series (reused for 60 s afterwards): what it costs, once
      const cold = {
        overview_24h_ms: Math.round((await timed(api, '/api/webhooks/stats/overview?hours=24')) * 10) / 10,
        ts_overall_7d_ms: Math.round((await timed(api, '/api/webhooks/stats/timeseries?hours=168&bucket=6h')) * 10) / 10,
      };
      ctx.log(`  first requests of the fresh service (rollups built): overview 24 h ${cold.overview_24h_ms} ms, then 7-day series ${cold.ts_overall_7d_ms} ms`);
      // warm-up: plans cached, pool connected
      for (const e of ENDPOINTS) for (let i = 0; i < 10; i++) await timed(api, e.path(i % 2 ? big[i % big.length].id : small[(i * 37) % small.length].id, i));
      await ctx.repeat('reads', async (r) => {
        const run: Record<string, unknown> = {};
        for (const e of [...ENDPOINTS, BASELINE]) {
          const d = await timeRoute(
            api,
            REQUESTS,
            (i, isBig) => (isBig ? big[(i / 2) % big.length] : small[(i * 7919 + r * 104729) % small.length]),
            (hook, i) => e.path(hook.id, i + r * REQUESTS),
            e.perWebhook === true,
          );
          p95[e.key].push(d.p95);
          run[e.key] = d.summary;
          ctx.log(`  reads run ${r + 1}: ${e.label}: p50 ${d.p50.toFixed(1)} ms, p95 ${d.p95.toFixed(1)} ms, max ${d.max.toFixed(1)} ms`);
        }
        runs.push(run);
      });
      const figures = ENDPOINTS.map((e) => ctx.report.add('reads', `reads_${e.key}_p95_ms`, `p95 ${e.label}`, 'ms', p95[e.key], { op: '<', value: 50 }));
      ctx.report.add('reads', 'reads_baseline_p95_ms', `p95 ${BASELINE.label}`, 'ms', p95.baseline);
      const slowestIndex = figures.reduce((best, f, i) => (f.value > figures[best].value ? i : best), 0);
      const order = [ENDPOINTS[slowestIndex], ...ENDPOINTS.filter((_, i) => i !== slowestIndex)];
      const plans: Record<string, unknown> = {};
      for (const e of order) {
        plans[e.key] = await ctx.pg.capturePlans(
          async () => void (await timed(api, e.path(big[0].id, 1))),
          (text) => /webhook_logs|webhook_attempts|delivery_queue|FROM webhook_events/.test(text) && !/\bUPDATE\b|FOR UPDATE/.test(text),
        );
      }
      await api.close();
      ctx.report.detail('reads', {
        seeded: { ...seeded, seconds: Math.round(seedSeconds) },
        seeded_events: seededEvents,
        cold_first_requests: cold,
        biggest_webhooks: big.map((b) => b.n),
        small_webhook_sizes: { min: small[small.length - 1]?.n, max: small[0]?.n },
        requests_per_endpoint_per_run: REQUESTS,
        runs,
        slowest: figures[slowestIndex].key,
        explain_biggest_webhook: plans,
      });
    } finally {
      await svc?.stop();
      await db.end();
      await ctx.pg.dropDatabase(dbName);
    }
  },
};
