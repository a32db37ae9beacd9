/**
 * The minimal durable sender (bench/minimal-sender/) as the benchmark runs
 * it: its own database, its webhooks (the same receiver ports and secret as
 * the engine's), the child process, and one measured run of each kind (events
 * through POST /api/events; a pre-seeded backlog), paired with the engine's
 * runs by the throughput and backlog scenarios.
 */
import { join, resolve } from 'node:path';
import type { Client } from 'pg';
import { canonicalJson } from '../../src/common/canonical-json';
import { createSchema, insertMinimalBacklog, insertWebhooks, minimalStatusCounts, truncateMinimal, waitForMinimalRecorded } from '../minimal-sender/schema';
import type { Context } from '../scenarios/context';
import { ApiClient, EVENT_TYPE, eventData } from './api';
import { CpuMeter, cpuMsPer, sampleRss } from './proc';
import { PROFILE_ROOT, ServiceHandle, startService } from './service';

const MAIN = resolve(__dirname, '..', 'minimal-sender', 'main.js');
const TOKEN = 'bench-minimal-token';

export { minimalStatusCounts };

export interface MinimalRun {
  /** deliveries/s: first emit (throughput) or first delivery (backlog) to the last delivery */
  rate: number;
  /** CPU ms per delivery: the minimal sender's process and PostgreSQL */
  cpuMs: { minimal: number; postgres: number };
  detail: Record<string, unknown>;
}

/** A fresh database `name` with the minimal sender's schema and `webhooks` webhooks on the receiver ports, subscribed to EVENT_TYPE. */
export async function createMinimalDatabase(ctx: Context, name: string, webhooks: number): Promise<{ url: string; db: Client }> {
  await ctx.pg.query('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await ctx.pg.query('postgres', `CREATE DATABASE ${name}`);
  const db = await ctx.pg.connect(name);
  await createSchema(db);
  await insertWebhooks(
    db,
    Array.from({ length: webhooks }, (_, i) => ({ url: ctx.receiver.url(i), secret: ctx.secret, events: [EVENT_TYPE] })),
  );
  return { url: ctx.pg.url(name), db };
}

/** Starts the minimal sender (the service's Node flags and concurrency limits) on `databaseUrl`. */
export function startMinimal(ctx: Context, databaseUrl: string, onSpawn?: (pid: number) => void): Promise<ServiceHandle> {
  const env = {
    WEBHOOK_MAX_IN_FLIGHT: ctx.cfg.serviceEnv.WEBHOOK_MAX_IN_FLIGHT,
    WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: ctx.cfg.serviceEnv.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT,
    MINIMAL_TOKEN: TOKEN,
  };
  // BENCH_CPU_PROF=1: profiled like the service; the .cpuprofile files land in bench/results/profiles/minimal-sender/ (summarise them with profile-summary.js)
  const cpuProfDir = ctx.cfg.cpuProf ? join(PROFILE_ROOT, 'minimal-sender') : undefined;
  return startService({ databaseUrl, env, script: MAIN, onSpawn, cpuProfDir });
}

export function minimalClient(sender: ServiceHandle, connections: number): ApiClient {
  return ApiClient.withToken(sender.baseUrl, TOKEN, connections);
}

/**
 * Runs one measurement of the minimal sender; a failure is reported (as the
 * error `<scenario>_minimal`: the run fails, the yardstick must not be broken
 * unnoticed) without losing the engine's figures of the same scenario.
 */
export async function yardstick<T>(ctx: Context, scenario: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    const e = err as Error;
    ctx.report.errors[`${scenario}_minimal`] = e.message;
    ctx.log(`  minimal sender FAILED: ${e.stack ?? e.message}`);
    return null;
  }
}

function cpuTargets(ctx: Context, sender: ServiceHandle, engine?: ServiceHandle) {
  const targets = ctx.cpuTargets(engine);
  targets.push({ name: 'minimal', pid: sender.pid });
  return targets;
}

function check(what: string, got: { count: number; sigBad: number; sigChecked: number }, expected: number, counts: Record<string, number>): void {
  if (got.count < expected) throw new Error(`minimal sender, ${what}: only ${got.count} of ${expected} deliveries arrived (stalled)`);
  if ((counts.succeeded ?? 0) !== expected)
    throw new Error(`minimal sender, ${what}: the database holds ${counts.succeeded ?? 0} succeeded attempts, expected ${expected}: ${JSON.stringify(counts)}`);
  if (got.sigBad > 0) throw new Error(`minimal sender, ${what}: ${got.sigBad} of ${got.sigChecked} sampled X-ATLAS-Signature headers did not verify`);
}

/** `events` events through the minimal sender's POST /api/events with `concurrency` clients; deliveries/s from the first emit to the last delivery. */
export async function minimalThroughputRun(
  ctx: Context,
  sender: ServiceHandle,
  api: ApiClient,
  db: Client,
  events: number,
  webhooks: number,
  concurrency: number,
  engine?: ServiceHandle,
): Promise<MinimalRun> {
  const expected = events * webhooks;
  await truncateMinimal(db);
  await ctx.receiver.reset();
  const cpu = new CpuMeter(cpuTargets(ctx, sender, engine));
  const emit = await api.emitMany(events, concurrency);
  const got = await ctx.receiver.waitFor(expected);
  const cores = cpu.stop();
  const seconds = (got.last - emit.start) / 1000;
  const rate = got.count / seconds;
  const counts = await waitForMinimalRecorded(db, expected);
  const cpuMs = cpuMsPer(cpu, got.count, ['minimal', 'postgres']) as MinimalRun['cpuMs'];
  check('throughput', got, expected, counts);
  return {
    rate,
    cpuMs,
    detail: {
      deliveries_per_s: Math.round(rate),
      deliveries_received: got.count,
      duplicates: got.duplicates,
      seconds: Math.round(seconds * 100) / 100,
      emit_seconds: Math.round((emit.end - emit.start) / 10) / 100,
      emit_events_per_s: Math.round(events / ((emit.end - emit.start) / 1000)),
      cpu_ms_per_delivery: cpuMs,
      db_status_counts: counts,
      cores_used: cores,
      signatures_checked: got.sigChecked,
      signatures_bad: got.sigBad,
    },
  };
}

/**
 * `events` x `webhooks` due pending attempts seeded into the minimal sender's
 * tables, then a fresh minimal sender started: the drain rate (first to last
 * delivery), seconds from spawn, peak RSS, CPU per delivery after ready.
 */
export async function minimalBacklogRun(ctx: Context, url: string, db: Client, events: number, webhooks: number): Promise<MinimalRun> {
  const attempts = events * webhooks;
  await truncateMinimal(db);
  const inserted = await insertMinimalBacklog(db, EVENT_TYPE, canonicalJson(eventData(1)), events);
  if (inserted !== attempts) throw new Error(`minimal sender: inserted ${inserted} attempts, expected ${attempts}`);
  await ctx.receiver.reset();
  let sampler: ReturnType<typeof sampleRss> | undefined;
  const sender = await startMinimal(ctx, url, (pid) => (sampler = sampleRss(pid, 100)));
  try {
    const cpu = new CpuMeter(cpuTargets(ctx, sender));
    const got = await ctx.receiver.waitFor(attempts);
    const cores = cpu.stop();
    const counts = await waitForMinimalRecorded(db, attempts);
    const mem = sampler!.stop();
    const rate = got.count / ((got.last - got.first) / 1000);
    const cpuMs = cpuMsPer(cpu, got.count, ['minimal', 'postgres']) as MinimalRun['cpuMs'];
    check('backlog', got, attempts, counts);
    return {
      rate,
      cpuMs,
      detail: {
        deliveries_per_s: Math.round(rate),
        delivered: got.count,
        duplicates: got.duplicates,
        seconds_from_spawn: Math.round((got.last - sender.spawnedAt) / 10) / 100,
        seconds_first_to_last: Math.round(got.last - got.first) / 1000,
        rss_peak_sampled_mb: mem.peakMb,
        rss_hwm_mb: mem.hwmMb,
        cpu_ms_per_delivery_after_ready: cpuMs,
        db_status_counts: counts,
        cores_used_after_ready: cores,
      },
    };
  } finally {
    sampler?.stop();
    await sender.stop();
  }
}
