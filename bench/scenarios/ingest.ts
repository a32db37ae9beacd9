/**
 * 4. Ingest: POST /api/events under load (autocannon, ~10 s, scaled) with a
 * valid token: accepted (202) events/s and the p99 latency of the 202.
 * Variant "none": no webhook matches, so it measures ingest (insert, commit,
 * an empty fan-out). Variant "10 webhooks": 10 matching webhooks, so the
 * deliveries compete with ingest for the machine; the service is restarted
 * on emptied tables between runs so each run starts without a backlog.
 */
import { scaled } from '../config';
import { eventData, EVENT_TYPE } from '../lib/api';
import { truncateDeliveries, waitForRecorded } from '../lib/db-checks';
import { CpuMeter } from '../lib/proc';
import type { ServiceHandle } from '../lib/service';
import type { Context, Scenario } from './context';

interface AutocannonResult {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number; average: number; max: number };
  requests: { total: number };
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no type declarations
const autocannon = require('autocannon') as Autocannon; // eslint-disable-line @typescript-eslint/no-require-imports

const CONNECTIONS = 32;

async function load(ctx: Context, svc: ServiceHandle, token: string, seconds: number): Promise<AutocannonResult & { cores: Record<string, number> }> {
  const cpu = new CpuMeter(ctx.cpuTargets(svc));
  const result = await autocannon({
    url: `${svc.baseUrl}/api/events`,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: EVENT_TYPE, data: eventData(1) }),
    connections: CONNECTIONS,
    duration: seconds,
  });
  return { ...result, cores: cpu.stop() };
}

export const ingestScenario: Scenario = {
  name: 'ingest',
  title: 'Ingest: POST /api/events under load (autocannon)',
  async run(ctx) {
    const seconds = Math.max(3, Math.min(scaled(ctx.cfg, 10, 3), Math.floor(ctx.remaining() / (2 * ctx.cfg.runs) - 8)));
    const variants: Array<{ key: string; label: string; webhooks: number }> = [
      { key: 'ingest', label: 'no matching webhook', webhooks: 0 },
      { key: 'ingest10', label: '10 matching webhooks', webhooks: 10 },
    ];
    const details: Record<string, unknown> = { seconds, connections: CONNECTIONS };
    for (const [index, v] of variants.entries()) {
      const dbName = `bench_${v.key}`;
      const url = await ctx.pg.createDatabase(dbName);
      const db = await ctx.pg.connect(dbName);
      let svc = await ctx.startService('ingest', url);
      const eps: number[] = [];
      const p99: number[] = [];
      const runs: Record<string, unknown>[] = [];
      try {
        const api = await ctx.login(svc, 4);
        await ctx.createWebhooks(api, v.webhooks);
        const token = api.bearer;
        await api.close();
        await ctx.repeat(
          `ingest (${v.label})`,
          async (r) => {
            if (r > 0 && v.webhooks > 0) {
              // a fresh service on emptied tables: no backlog from the previous run
              await svc.stop();
              await truncateDeliveries(db);
              svc = await ctx.startService('ingest', url);
            }
            // warm-up (JIT, pool connections), then let its deliveries finish
            await load(ctx, svc, token, 1);
            await waitForRecorded(db, 0, 60_000);
            await ctx.receiver.reset();
            const res = await load(ctx, svc, token, seconds);
            const accepted = res['2xx'] / res.duration;
            const delivered = (await ctx.receiver.stats()).count;
            eps.push(accepted);
            p99.push(res.latency.p99);
            runs.push({
              accepted: res['2xx'],
              non_2xx: res.non2xx,
              errors: res.errors,
              timeouts: res.timeouts,
              duration_s: res.duration,
              latency_ms: { p50: res.latency.p50, p99: res.latency.p99, avg: res.latency.average, max: res.latency.max },
              deliveries_during_load: delivered,
              cores_used: res.cores,
            });
            ctx.log(
              `  ingest (${v.label}) run ${r + 1}: ${Math.round(accepted)} events/s accepted, p99 ${res.latency.p99} ms, non-2xx ${res.non2xx}, errors ${res.errors}, deliveries during load ${delivered}`,
            );
            if (res.non2xx > 0 || res.errors > 0) throw new Error(`${res.non2xx} non-2xx answers and ${res.errors} errors under load`);
          },
          1 / (variants.length - index),
        );
      } finally {
        await svc.stop();
        await db.end();
        await ctx.pg.dropDatabase(dbName);
      }
      ctx.report.add('ingest', `${v.key}_eps`, `ingest, ${v.label}`, 'events/s', eps);
      ctx.report.add('ingest', `${v.key}_p99_ms`, `ingest p99, ${v.label}`, 'ms', p99);
      details[v.key] = runs;
    }
    ctx.report.detail('ingest', details);
  },
};
