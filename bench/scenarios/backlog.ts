/**
 * 6. Backlog: 100,000 due attempts (scaled) are waiting when the service
 * starts: 10,000 events x 10 webhooks inserted with SQL as pending attempts
 * scheduled 10 minutes ago (as after an outage of the receivers). Then the
 * service starts: the time until the last delivery arrives, the drain rate
 * (first to last delivery) against the throughput scenario's rate, and the
 * service's peak RSS while draining (/proc/<pid>/status VmRSS every 100 ms,
 * and the kernel's VmHWM). Right after each run the minimal durable sender
 * (bench/minimal-sender/) drains the same backlog from its own tables, fresh
 * process too, and the engine is judged against it: drain rate / minimal
 * >= 0.7 (issue 10). CPU per delivery (after ready) for both.
 */
import type { Client } from 'pg';
import { canonicalJson } from '../../src/common/canonical-json';
import { scaled } from '../config';
import { eventData, EVENT_TYPE } from '../lib/api';
import { truncateDeliveries, waitForRecorded } from '../lib/db-checks';
import { sampleMetrics } from '../lib/metrics-sampler';
import { createMinimalDatabase, minimalBacklogRun, yardstick } from '../lib/minimal';
import { CpuMeter, cpuMsPer, sampleRss } from '../lib/proc';
import type { Scenario } from './context';
import type { StatementStat } from '../lib/pg';

const WEBHOOKS = 10;

async function insertBacklog(db: Client, events: number): Promise<number> {
  const res = await db.query(
    `WITH ev AS (
       INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at)
       SELECT atlas_uuid_v7(), $1, $2::json, now() - interval '10 minutes', now() - interval '10 minutes'
       FROM generate_series(1, $3::int)
       RETURNING id, created_at)
     INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, created_at)
     SELECT w.id, ev.id, ev.created_at, $1, 1, 'event', ev.created_at, ev.created_at FROM ev CROSS JOIN webhooks w`,
    [EVENT_TYPE, canonicalJson(eventData(1)), events],
  );
  await db.query('ANALYZE delivery_queue');
  return res.rowCount ?? 0;
}

export const backlogScenario: Scenario = {
  name: 'backlog',
  title: 'Backlog: drain 100,000 due attempts at start-up',
  async run(ctx) {
    const nominal = scaled(ctx.cfg, 10_000, 200);
    // one run (the engine's and the minimal sender's) must fit the time budget at the rates measured by the throughput scenario (or 0.7 x the ceiling)
    const rate = ctx.throughputDps ?? (ctx.ceilingRps ?? 1000) * 0.7;
    const minimalRate = ctx.minimalDps ?? 2 * rate;
    const fit = Math.floor(Math.max(5, ctx.remaining() - 20) / (1 / rate + 1 / minimalRate) / WEBHOOKS);
    const events = Math.max(200, Math.min(nominal, fit));
    if (events < nominal)
      ctx.log(
        `  ${events * WEBHOOKS} attempts instead of ${nominal * WEBHOOKS}: what one run drains within the time budget at ${Math.round(rate)}/s (the minimal sender at ${Math.round(minimalRate)}/s; BENCH_BUDGET_S=0 for the nominal size)`,
      );
    const attempts = events * WEBHOOKS;
    const dbName = 'bench_backlog';
    const url = await ctx.pg.createDatabase(dbName);
    const db = await ctx.pg.connect(dbName);
    const drain: number[] = [];
    const rates: number[] = [];
    const rss: number[] = [];
    const ratios: number[] = [];
    const runs: Record<string, unknown>[] = [];
    const minimalRates: number[] = [];
    const toMinimal: number[] = [];
    const cpuService: number[] = [];
    const cpuPg: number[] = [];
    const cpuMinimal: number[] = [];
    const cpuMinimalPg: number[] = [];
    let statements: StatementStat[] = [];
    let minimalDb: Awaited<ReturnType<typeof createMinimalDatabase>> | undefined;
    try {
      minimalDb = await createMinimalDatabase(ctx, `${dbName}_minimal`, WEBHOOKS);
      const { url: mUrl, db: mDb } = minimalDb;
      for (let i = 0; i < WEBHOOKS; i++) {
        await db.query(`INSERT INTO webhooks (name, url, secret, events) VALUES ($1, $2, $3, $4)`, [
          `backlog-${i}`,
          ctx.receiver.url(i),
          ctx.secret,
          [EVENT_TYPE],
        ]);
      }
      await ctx.repeat('backlog', async (r) => {
        await truncateDeliveries(db);
        const inserted = await insertBacklog(db, events);
        if (inserted !== attempts) throw new Error(`inserted ${inserted} attempts, expected ${attempts}`);
        await ctx.receiver.reset();
        await ctx.pg.resetStatements();
        let sampler: ReturnType<typeof sampleRss> | undefined;
        const svc = await ctx.startService('backlog', url, {}, (pid) => (sampler = sampleRss(pid, 100)));
        const cpu = new CpuMeter(ctx.cpuTargets(svc));
        const metrics = sampleMetrics(svc.baseUrl, Number(ctx.cfg.serviceEnv.WEBHOOK_MAX_IN_FLIGHT));
        try {
          const got = await ctx.receiver.waitFor(attempts);
          const service = await metrics.stop();
          const cores = cpu.stop();
          const counts = await waitForRecorded(db, attempts);
          statements = await ctx.pg.topStatements(dbName, 12);
          const mem = sampler!.stop();
          const fromStart = (got.last - svc.spawnedAt) / 1000;
          const rate = got.count / ((got.last - got.first) / 1000);
          drain.push(fromStart);
          rates.push(rate);
          rss.push(mem.peakMb);
          if (ctx.throughputDps) ratios.push(rate / ctx.throughputDps);
          const cpuMs = cpuMsPer(cpu, got.count, ['service', 'postgres']);
          cpuService.push(cpuMs.service);
          cpuPg.push(cpuMs.postgres);
          runs.push({
            attempts,
            delivered: got.count,
            duplicates: got.duplicates,
            seconds_from_spawn: Math.round(fromStart * 100) / 100,
            seconds_spawn_to_ready: Math.round(svc.readyAt - svc.spawnedAt) / 1000,
            seconds_first_to_last: Math.round(got.last - got.first) / 1000,
            deliveries_per_s: Math.round(rate),
            rss_peak_sampled_mb: mem.peakMb,
            rss_hwm_mb: mem.hwmMb,
            rss_samples: mem.samples,
            db_status_counts: counts,
            service_metrics: service,
            cpu_ms_per_delivery_after_ready: cpuMs,
            cores_used_after_ready: cores,
          });
          ctx.log(
            `  backlog run ${r + 1}: ${got.count}/${attempts} drained ${fromStart.toFixed(1)} s after spawn (${Math.round(rate)} deliveries/s), peak RSS ${mem.peakMb} MB (HWM ${mem.hwmMb} MB); db ${JSON.stringify(counts)}`,
          );
          if (got.count < attempts) throw new Error(`only ${got.count} of ${attempts} attempts were delivered`);
          if ((counts.succeeded ?? 0) !== attempts) throw new Error(`the database holds ${counts.succeeded ?? 0} succeeded attempts, expected ${attempts}`);
        } finally {
          await metrics.stop();
          sampler?.stop();
          await svc.stop();
        }
        // the yardstick, right after: the same backlog in its own tables, a fresh process
        const engineRate = rates[rates.length - 1];
        const m = await yardstick(ctx, 'backlog', () => minimalBacklogRun(ctx, mUrl, mDb, events, WEBHOOKS));
        if (m) {
          minimalRates.push(m.rate);
          toMinimal.push(engineRate / m.rate);
          cpuMinimal.push(m.cpuMs.minimal);
          cpuMinimalPg.push(m.cpuMs.postgres);
          runs[runs.length - 1].minimal_sender = m.detail;
          runs[runs.length - 1].ratio_to_minimal = Math.round((engineRate / m.rate) * 1000) / 1000;
          const e = runs[runs.length - 1].cpu_ms_per_delivery_after_ready as Record<string, number>;
          ctx.log(
            `  minimal sender backlog run ${r + 1}: ${Math.round(m.rate)} deliveries/s (drained ${String(m.detail.seconds_from_spawn)} s after spawn, peak RSS ${String(m.detail.rss_peak_sampled_mb)} MB); engine / minimal = ${(engineRate / m.rate).toFixed(2)}; CPU ms per delivery: engine service ${e.service} + PostgreSQL ${e.postgres}, minimal ${m.cpuMs.minimal} + PostgreSQL ${m.cpuMs.postgres}`,
          );
        }
      });
      ctx.report.add('backlog', 'backlog_drain_s', `backlog of ${attempts} drained (from spawn)`, 's', drain);
      ctx.report.add('backlog', 'backlog_dps', 'backlog drain rate', 'deliveries/s', rates);
      ctx.report.add('backlog', 'backlog_minimal_dps', 'minimal durable sender, same backlog (paired)', 'deliveries/s', minimalRates);
      ctx.report.add('backlog', 'backlog_ratio_to_minimal', 'drain rate / paired minimal sender', 'ratio', toMinimal, { op: '>=', value: 0.7 });
      if (ratios.length) ctx.report.add('backlog', 'backlog_ratio', 'drain rate / throughput rate', 'ratio', ratios, { op: '>=', value: 0.9 });
      ctx.report.add('backlog', 'backlog_peak_rss_mb', 'service peak RSS while draining', 'MB', rss, { op: '<', value: 300 });
      ctx.report.add('backlog', 'backlog_cpu_ms_service', 'CPU per delivery: service (after ready)', 'ms', cpuService);
      ctx.report.add('backlog', 'backlog_cpu_ms_postgres', 'CPU per delivery: PostgreSQL (engine)', 'ms', cpuPg);
      ctx.report.add('backlog', 'backlog_minimal_cpu_ms', 'CPU per delivery: minimal sender (after ready)', 'ms', cpuMinimal);
      ctx.report.add('backlog', 'backlog_minimal_cpu_ms_postgres', 'CPU per delivery: PostgreSQL (minimal)', 'ms', cpuMinimalPg);
      ctx.report.detail('backlog', { events, webhooks: WEBHOOKS, attempts, nominal_attempts: nominal * WEBHOOKS, runs, top_statements_last_run: statements });
    } finally {
      await minimalDb?.db.end();
      await ctx.pg.dropDatabase(`${dbName}_minimal`);
      await db.end();
      await ctx.pg.dropDatabase(dbName);
    }
  },
};
