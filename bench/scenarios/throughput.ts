/**
 * 2. Throughput: 20,000 events (scaled) emitted through POST /api/events to
 * 10 webhooks, every attempt recorded in PostgreSQL. Deliveries/s from the
 * first emit to the last request the receiver saw; the database must then
 * hold one succeeded attempt per delivery. The ratio to the ceiling of this
 * same run is the engine's efficiency (target >= 0.7).
 */
import { scaled } from '../config';
import { truncateDeliveries, waitForRecorded } from '../lib/db-checks';
import { sampleMetrics } from '../lib/metrics-sampler';
import { CpuMeter } from '../lib/proc';
import { measureCeiling } from './ceiling';
import type { Context, Scenario } from './context';

const WEBHOOKS = 10;
const EMIT_CONCURRENCY = 32;

/** The axios ceiling of this run (measured now when the ceiling scenario was not selected). */
export async function ceilingOf(ctx: Context): Promise<number> {
  if (ctx.ceilingRps === undefined) {
    ctx.log('  (measuring the axios ceiling first: the ceiling scenario was not selected)');
    const { samples } = await measureCeiling(ctx, 'axios', 1, Math.max(2, Math.min(8 * ctx.cfg.scale, 6)));
    ctx.ceilingRps = samples[0];
  }
  return ctx.ceilingRps;
}

export const throughputScenario: Scenario = {
  name: 'throughput',
  title: 'Throughput: events to 10 webhooks, every attempt recorded',
  async run(ctx) {
    const ceiling = await ceilingOf(ctx);
    const nominal = scaled(ctx.cfg, 20_000, 500);
    // sized so that BENCH_RUNS runs fit the time budget at the target rate (0.7 x ceiling)
    const fit = Math.floor((ceiling * 0.7 * Math.max(5, ctx.remaining() / ctx.cfg.runs - 8)) / WEBHOOKS);
    const events = Math.max(500, Math.min(nominal, fit));
    if (events < nominal) ctx.log(`  ${events} events per run instead of ${nominal}: what fits the time budget at 0.7 x the ceiling (BENCH_BUDGET_S=0 for the nominal size)`);
    const expected = events * WEBHOOKS;
    const dbName = 'bench_throughput';
    const url = await ctx.pg.createDatabase(dbName);
    const db = await ctx.pg.connect(dbName);
    const svc = await ctx.startService('throughput', url);
    const api = await ctx.login(svc, EMIT_CONCURRENCY);
    const dps: number[] = [];
    const ratios: number[] = [];
    const emitRates: number[] = [];
    const runs: Record<string, unknown>[] = [];
    let statements: unknown[] = [];
    try {
      await ctx.createWebhooks(api, WEBHOOKS);
      await ctx.repeat('throughput', async (r) => {
        await truncateDeliveries(db);
        await ctx.receiver.reset();
        await ctx.pg.resetStatements();
        const cpu = new CpuMeter(ctx.cpuTargets(svc));
        const metrics = sampleMetrics(svc.baseUrl, Number(ctx.cfg.serviceEnv.WEBHOOK_MAX_IN_FLIGHT));
        const emit = await api.emitMany(events, EMIT_CONCURRENCY);
        const got = await ctx.receiver.waitFor(expected);
        const cores = cpu.stop();
        const service = await metrics.stop();
        const seconds = (got.last - emit.start) / 1000;
        const rate = got.count / seconds;
        const counts = await waitForRecorded(db, expected);
        const emitRate = events / ((emit.end - emit.start) / 1000);
        dps.push(rate);
        ratios.push(rate / ceiling);
        emitRates.push(emitRate);
        runs.push({
          deliveries_received: got.count,
          duplicates: got.duplicates,
          seconds: Math.round(seconds * 100) / 100,
          emit_seconds: Math.round((emit.end - emit.start) / 10) / 100,
          emit_events_per_s: Math.round(emitRate),
          db_status_counts: counts,
          cores_used: cores,
          service_metrics: service,
          signatures_checked: got.sigChecked,
          signatures_bad: got.sigBad,
        });
        ctx.log(
          `  throughput run ${r + 1}: ${Math.round(rate)} deliveries/s (${got.count}/${expected} in ${seconds.toFixed(1)} s; emit ${Math.round(emitRate)} events/s over ${((emit.end - emit.start) / 1000).toFixed(1)} s; db ${JSON.stringify(counts)}; cores ${JSON.stringify(cores)}; in flight ${JSON.stringify(service.in_flight)}, due ${JSON.stringify(service.due)})`,
        );
        if (got.count < expected) throw new Error(`only ${got.count} of ${expected} deliveries arrived (stalled)`);
        if ((counts.succeeded ?? 0) !== expected) throw new Error(`the database holds ${counts.succeeded ?? 0} succeeded attempts, expected ${expected}: ${JSON.stringify(counts)}`);
        statements = await ctx.pg.topStatements(dbName, 12);
      });
      ctx.report.add('throughput', 'throughput_dps', `throughput (${events} events x ${WEBHOOKS} webhooks)`, 'deliveries/s', dps);
      ctx.report.add('throughput', 'throughput_ratio', 'throughput / ceiling (axios)', 'ratio', ratios, { op: '>=', value: 0.7 });
      ctx.report.add('throughput', 'throughput_emit_eps', 'emit rate during the throughput run', 'events/s', emitRates);
      ctx.throughputDps = ctx.report.figures.find((f) => f.key === 'throughput_dps')!.value;
      ctx.report.detail('throughput', {
        events,
        nominal_events: nominal,
        webhooks: WEBHOOKS,
        emit_concurrency: EMIT_CONCURRENCY,
        ceiling_rps_used: Math.round(ceiling),
        runs,
        top_statements_last_run: statements,
      });
    } finally {
      await api.close();
      await svc.stop();
      await db.end();
      await ctx.pg.dropDatabase(dbName);
    }
  },
};
