/**
 * 3. Latency: a steady 200 events/s to 5 webhooks for 30 s (scaled), after
 * a warm-up of 10 s (scaled) at the same rate on every freshly started
 * service, whose deliveries are not counted (a cold process runs its first
 * seconds unoptimised by the JIT; the warm-up's own p99 is in the details,
 * as `warmup`, so the cold start is not hidden). For
 * each delivery, the time from the 202 of POST /api/events being read by the
 * client to the receiver reading the request (both ms since the epoch from
 * performance.timeOrigin + performance.now(), one machine clock). A delivery
 * can arrive before its 202 is read (fan-out starts right after the commit),
 * which gives a negative latency; those are kept as they are. Deliveries
 * still missing 10 s after the last emit count with the time waited so far
 * (a lower bound; the run is marked incomplete): an engine that cannot keep
 * up shows a p99 far above target rather than a stalled benchmark.
 */
import { scaled } from '../config';
import { sampleMetrics } from '../lib/metrics-sampler';
import { statusCounts, truncateDeliveries, waitForRecorded } from '../lib/db-checks';
import { CpuMeter } from '../lib/proc';
import { distribution, nowMs, sleep } from '../lib/stats';
import type { ApiClient } from '../lib/api';
import type { Scenario } from './context';

const WEBHOOKS = 5;
const RATE = 200;
const DRAIN_WAIT_MS = 10_000;
const WARMUP_S = 10;
const WINDOW_MS = 5000;

/** Emits `events` events at RATE per second; resolves with each event's 202 time and how far the emitter fell behind. */
async function emitSteady(api: ApiClient, events: number): Promise<{ emittedAt: Map<string, number>; seconds: number; lateMax: number }> {
  const emittedAt = new Map<string, number>();
  const inFlight: Promise<void>[] = [];
  const interval = 1000 / RATE;
  const t0 = performance.now();
  let sent = 0;
  let lateMax = 0;
  while (sent < events) {
    const due = Math.min(events, Math.floor((performance.now() - t0) / interval) + 1);
    if (due - sent > 1) lateMax = Math.max(lateMax, due - sent - 1);
    while (sent < due) {
      const i = sent++;
      inFlight.push(api.emit(i).then((e) => void emittedAt.set(e.id, e.at)));
    }
    await sleep(1);
  }
  await Promise.all(inFlight);
  return { emittedAt, seconds: (performance.now() - t0) / 1000, lateMax };
}

export const latencyScenario: Scenario = {
  name: 'latency',
  title: 'Latency: steady 200 events/s to 5 webhooks, emit 202 to receiver',
  async run(ctx) {
    const warmupS = Math.max(2, scaled(ctx.cfg, WARMUP_S, 2));
    // set-up ~10 s (service start, webhooks, the warm-up's drain), then each run takes its seconds plus ~2 s
    const seconds = Math.max(5, Math.min(scaled(ctx.cfg, 30, 5), Math.floor((ctx.remaining() - warmupS - 10) / ctx.cfg.runs - 3)));
    const events = RATE * seconds;
    const dbName = 'bench_latency';
    const url = await ctx.pg.createDatabase(dbName);
    const db = await ctx.pg.connect(dbName);
    let svc = await ctx.startService('latency', url);
    let api = await ctx.login(svc, 16);
    const p50: number[] = [];
    const p95: number[] = [];
    const p99: number[] = [];
    const runs: Record<string, unknown>[] = [];
    const warmups: Record<string, unknown>[] = [];
    /** The warm-up of a freshly started service: RATE events/s for warmupS, delivered, then forgotten. */
    const warmUp = async () => {
      await ctx.receiver.reset(true);
      const w = await emitSteady(api, RATE * warmupS);
      const got = await ctx.receiver.waitFor(w.emittedAt.size * WEBHOOKS, DRAIN_WAIT_MS, 60_000);
      const { ids, times } = await ctx.receiver.arrivals();
      const latencies = ids.map((id, k) => times[k] - (w.emittedAt.get(id) ?? times[k]));
      const d = distribution(latencies);
      warmups.push({
        seconds: warmupS,
        events: w.emittedAt.size,
        deliveries: got.count,
        p50_ms: Math.round(d.p50 * 10) / 10,
        p99_ms: Math.round(d.p99 * 10) / 10,
      });
      ctx.log(
        `  latency warm-up (${warmupS} s on a fresh service, not counted): p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms (${got.count}/${w.emittedAt.size * WEBHOOKS} deliveries)`,
      );
    };
    let statements: unknown[] = [];
    try {
      await ctx.createWebhooks(api, WEBHOOKS);
      await warmUp();
      await ctx.repeat('latency', async (r) => {
        await truncateDeliveries(db);
        await ctx.receiver.reset(true);
        await ctx.pg.resetStatements();
        const cpu = new CpuMeter(ctx.cpuTargets(svc));
        const metrics = sampleMetrics(svc.baseUrl, Number(ctx.cfg.serviceEnv.WEBHOOK_MAX_IN_FLIGHT));
        const { emittedAt, seconds: emitSeconds, lateMax } = await emitSteady(api, events);
        const got = await ctx.receiver.waitFor(events * WEBHOOKS, DRAIN_WAIT_MS, DRAIN_WAIT_MS);
        const waitedUntil = nowMs();
        const service = await metrics.stop();
        const cores = cpu.stop();
        const { ids, times } = await ctx.receiver.arrivals();
        const latencies: number[] = [];
        const arrived = new Map<string, number>();
        const firstEmit = Math.min(...emittedAt.values());
        const windows: number[][] = [];
        for (let k = 0; k < ids.length; k++) {
          const at = emittedAt.get(ids[k]);
          if (at !== undefined) {
            latencies.push(times[k] - at);
            (windows[Math.floor((at - firstEmit) / WINDOW_MS)] ??= []).push(times[k] - at);
          }
          arrived.set(ids[k], (arrived.get(ids[k]) ?? 0) + 1);
        }
        const missing = events * WEBHOOKS - got.count;
        if (missing > 0) {
          // still on their way: count them with the time waited so far (a lower bound)
          for (const [id, at] of emittedAt) for (let k = arrived.get(id) ?? 0; k < WEBHOOKS; k++) latencies.push(waitedUntil - at);
        }
        const d = distribution(latencies);
        p50.push(d.p50);
        p95.push(d.p95);
        p99.push(d.p99);
        const counts = missing > 0 ? await statusCounts(db) : await waitForRecorded(db, events * WEBHOOKS, 30_000);
        statements = await ctx.pg.topStatements(dbName, 15);
        runs.push({
          complete: missing === 0,
          missing_after_wait: missing,
          events,
          deliveries: got.count,
          emit_seconds: Math.round(emitSeconds * 100) / 100,
          achieved_rate: Math.round(events / emitSeconds),
          max_emits_behind_schedule: lateMax,
          /** p99 of the deliveries of the events emitted in each WINDOW_MS of the run: is the tail steady or a few bad moments? */
          p99_ms_per_window: { window_ms: WINDOW_MS, values: windows.map((w) => Math.round(distribution(w ?? [0]).p99 * 10) / 10) },
          latency_ms: Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Math.round(v * 100) / 100])),
          db_status_counts: counts,
          service_metrics: service,
          cores_used: cores,
        });
        ctx.log(
          `  latency run ${r + 1}: p50 ${d.p50.toFixed(1)} ms, p95 ${d.p95.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms, max ${d.max.toFixed(1)} ms (${got.count}/${events * WEBHOOKS} deliveries${missing ? `; ${missing} still missing ${DRAIN_WAIT_MS / 1000} s after the last emit, counted as lower bounds` : ''}; emitted at ${Math.round(events / emitSeconds)}/s)`,
        );
        if (missing > 0) {
          // let the backlog go before the next run (a fresh service on emptied tables)
          await api.close();
          await svc.stop();
          await truncateDeliveries(db);
          svc = await ctx.startService('latency', url);
          api = await ctx.login(svc, 16);
          await warmUp();
        }
      });
      ctx.report.add('latency', 'latency_p50_ms', `latency p50 (${RATE} ev/s x ${WEBHOOKS} webhooks)`, 'ms', p50);
      ctx.report.add('latency', 'latency_p95_ms', 'latency p95', 'ms', p95);
      ctx.report.add('latency', 'latency_p99_ms', 'latency p99', 'ms', p99, { op: '<', value: 50 });
      ctx.report.detail('latency', { rate: RATE, seconds, webhooks: WEBHOOKS, warmup: warmups, runs, top_statements_last_run: statements });
    } finally {
      await api.close();
      await svc.stop();
      await db.end();
      await ctx.pg.dropDatabase(dbName);
    }
  },
};
