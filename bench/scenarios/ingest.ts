/**
 * 4. Ingest: POST /api/events under load (autocannon, ~10 s, scaled) with a
 * valid token: accepted (202) events/s and the p99 latency of the 202.
 * Variant "none": no webhook matches, so it measures ingest (insert, commit,
 * an empty fan-out). Variant "10 webhooks": 10 matching webhooks, so the
 * deliveries compete with ingest for the machine; the service is restarted
 * on emptied tables between runs so each run starts without a backlog.
 * "none" is measured twice per run on the same service and database: without
 * and with the emitted type's schema (EVENT_DATA_SCHEMA) enforced, so every
 * emit is validated (Ajv), alternating which goes first; the median of the
 * paired ratios is the cost of validation (target: at least 0.9).
 */
import { scaled } from '../config';
import { eventData, EVENT_DATA_SCHEMA, EVENT_TYPE } from '../lib/api';
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
    // "none" measures each run twice on the same service and database, without and with the schema enforced
    // (alternating which goes first), so that the validation ratio compares like with like
    const variants: Array<{ key: string; label: string; webhooks: number; paired?: boolean }> = [
      { key: 'ingest', label: 'no matching webhook', webhooks: 0, paired: true },
      { key: 'ingest10', label: '10 matching webhooks', webhooks: 10 },
    ];
    const measurements = variants.reduce((n, v) => n + (v.paired ? 2 : 1), 0);
    const seconds = Math.max(3, Math.min(scaled(ctx.cfg, 10, 3), Math.floor(ctx.remaining() / (measurements * ctx.cfg.runs) - 8)));
    const details: Record<string, unknown> = { seconds, connections: CONNECTIONS };
    const samples: Record<string, { eps: number[]; p99: number[]; runs: Record<string, unknown>[]; label: string }> = {};
    const ratios: number[] = [];
    for (const [index, v] of variants.entries()) {
      const dbName = `bench_${v.key}`;
      const url = await ctx.pg.createDatabase(dbName);
      const db = await ctx.pg.connect(dbName);
      let svc = await ctx.startService('ingest', url);
      try {
        const api = await ctx.login(svc, 4);
        await ctx.createWebhooks(api, v.webhooks);
        const enforce = async (on: boolean) => {
          const res = await api.request('PATCH', `/api/events/types/${EVENT_TYPE}`, { schema: EVENT_DATA_SCHEMA, example: eventData(1), enforced: on });
          if (res.status !== 200) throw new Error(`enforcing ${EVENT_TYPE}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
          const refused = await api.request('POST', '/api/events', { type: EVENT_TYPE, data: { ...eventData(1), port: 'http' } });
          if ((refused.status === 422) !== on) throw new Error(`enforcement ${on ? 'on' : 'off'}: an invalid event got HTTP ${refused.status}`);
        };
        const token = api.bearer;
        const measure = async (key: string, label: string, r: number): Promise<number> => {
          const target = (samples[key] ??= { eps: [], p99: [], runs: [], label });
          // warm-up (JIT, pool connections), then let its deliveries finish
          await load(ctx, svc, token, 1);
          await waitForRecorded(db, 0, 60_000);
          await ctx.receiver.reset();
          const res = await load(ctx, svc, token, seconds);
          const accepted = res['2xx'] / res.duration;
          const delivered = (await ctx.receiver.stats()).count;
          target.eps.push(accepted);
          target.p99.push(res.latency.p99);
          target.runs.push({
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
            `  ingest (${label}) run ${r + 1}: ${Math.round(accepted)} events/s accepted, p99 ${res.latency.p99} ms, non-2xx ${res.non2xx}, errors ${res.errors}, deliveries during load ${delivered}`,
          );
          if (res.non2xx > 0 || res.errors > 0) throw new Error(`${res.non2xx} non-2xx answers and ${res.errors} errors under load`);
          return accepted;
        };
        await ctx.repeat(
          `ingest (${v.label})`,
          async (r) => {
            if (r > 0 && v.webhooks > 0) {
              // a fresh service on emptied tables: no backlog from the previous run
              await svc.stop();
              await truncateDeliveries(db);
              svc = await ctx.startService('ingest', url);
            }
            if (!v.paired) {
              await measure(v.key, v.label, r);
              return;
            }
            const rates: Record<string, number> = {};
            for (const on of r % 2 === 0 ? [false, true] : [true, false]) {
              await enforce(on);
              const key = on ? `${v.key}_validated` : v.key;
              rates[key] = await measure(key, on ? `${v.label}, schema enforced` : v.label, r);
            }
            ratios.push(rates[`${v.key}_validated`] / rates[v.key]);
          },
          1 / (variants.length - index),
        );
        await api.close();
      } finally {
        await svc.stop();
        await db.end();
        await ctx.pg.dropDatabase(dbName);
      }
    }
    for (const [key, m] of Object.entries(samples)) {
      ctx.report.add('ingest', `${key}_eps`, `ingest, ${m.label}`, 'events/s', m.eps);
      ctx.report.add('ingest', `${key}_p99_ms`, `ingest p99, ${m.label}`, 'ms', m.p99);
      details[key] = m.runs;
    }
    if (ratios.length) {
      ctx.report.add('ingest', 'ingest_validated_ratio', 'ingest with the schema enforced / without (paired runs)', 'ratio', ratios, { op: '>=', value: 0.9 });
    }
    ctx.report.detail('ingest', details);
  },
};
