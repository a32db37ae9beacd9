/**
 * 1. Ceiling: what this machine can push to the receiver with the engine's
 * own HTTP client and no database. The engine figure uses the engine's
 * WebhookSender itself (undici + the guarded agent + the capped response read),
 * configured from the service's environment, with WEBHOOK_MAX_IN_FLIGHT
 * requests outstanding; each request is built as the dispatcher builds it
 * (buildEventBody once per event, signDelivery per attempt). The undici
 * figure sends the same requests through undici Pools for reference.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { canonicalJson } from '../../src/common/canonical-json';
import { AppConfig } from '../../src/config/app-config';
import { parseEnv } from '../../src/config/env.schema';
import { buildEventBody } from '../../src/delivery/sending/event-body';
import { signDelivery } from '../../src/delivery/sending/signature';
import { WebhookSender } from '../../src/delivery/sending/webhook-sender';
import { EVENT_TYPE, eventData } from '../lib/api';
import { CpuMeter } from '../lib/proc';
import type { Context, Scenario } from './context';

/** The webhooks of the throughput scenario: the ceiling spreads its requests the same way. */
export const ENDPOINTS = 10;

type Send = (url: string, body: string, headers: Record<string, string>) => Promise<boolean>;

function engineSender(ctx: Context): { send: Send; close: () => Promise<void> } {
  const sender = new WebhookSender(new AppConfig(parseEnv(ctx.cfg.serviceEnv)));
  return {
    send: async (url, body, headers) => (await sender.send({ url, body, headers, timeoutMs: 10_000 })).success,
    // the agent is closed by the sender's Nest shutdown hook
    close: () => sender.onApplicationShutdown(),
  };
}

function undiciSender(ctx: Context): { send: Send; close: () => Promise<void> } {
  const perOrigin = Number(ctx.cfg.serviceEnv.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT) * 2; // the engine's maxSockets per origin
  const pools = new Map<string, Pool>();
  return {
    send: async (url, body, headers) => {
      const origin = new URL(url).origin;
      let pool = pools.get(origin);
      if (!pool) pools.set(origin, (pool = new Pool(origin, { connections: perOrigin, pipelining: 1 })));
      const res = await pool.request({ method: 'POST', path: '/', headers, body });
      await res.body.text();
      return res.statusCode >= 200 && res.statusCode < 300;
    },
    close: async () => {
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
  };
}

/** Sends signed deliveries with `concurrency` outstanding for `seconds`; returns requests/s. */
async function blast(ctx: Context, send: Send, seconds: number, concurrency: number): Promise<{ rps: number; requests: number; failures: number }> {
  const urls = Array.from({ length: ENDPOINTS }, (_, i) => ctx.receiver.url(i));
  const createdAt = new Date();
  let body = '';
  let eventId = '';
  let next = 0;
  let failures = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const i = next++;
      if (i % ENDPOINTS === 0 || !body) {
        eventId = randomUUID();
        body = buildEventBody(eventId, EVENT_TYPE, createdAt, canonicalJson(eventData(i)));
      }
      const headers = signDelivery({
        secret: ctx.secret,
        previousSecret: null,
        eventId,
        eventType: EVENT_TYPE,
        deliveryId: randomUUID(),
        attempt: 1,
        timestampSeconds: Math.floor(Date.now() / 1000),
        body,
      });
      if (!(await send(urls[i % ENDPOINTS], body, headers))) failures++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rps: next / ((performance.now() - t0) / 1000), requests: next, failures };
}

/** Seconds per measured ceiling run: 8 s nominal (scaled), less when the time budget is short, at least 2 s. */
export function ceilingSeconds(ctx: Context, runs: number, clients: number): number {
  const fit = (ctx.remaining() - 2) / (clients * runs) - 1; // 1 s warm-up per client
  return Math.max(2, Math.min(8 * ctx.cfg.scale, fit));
}

/** Runs the ceiling for one client: a 1 s warm-up, then measured runs of `seconds`. */
export async function measureCeiling(
  ctx: Context,
  client: 'engine' | 'undici',
  runs: number,
  seconds: number,
): Promise<{ samples: number[]; cores: Record<string, number>[]; failures: number }> {
  const concurrency = Number(ctx.cfg.serviceEnv.WEBHOOK_MAX_IN_FLIGHT);
  const s = client === 'engine' ? engineSender(ctx) : undiciSender(ctx);
  const samples: number[] = [];
  const cores: Record<string, number>[] = [];
  let failures = 0;
  try {
    await blast(ctx, s.send, 1, concurrency);
    for (let r = 0; r < runs; r++) {
      await ctx.receiver.reset();
      const cpu = new CpuMeter(ctx.cpuTargets());
      const res = await blast(ctx, s.send, seconds, concurrency);
      cores.push(cpu.stop());
      const got = (await ctx.receiver.stats()).count;
      if (got !== res.requests) throw new Error(`the receiver got ${got} requests, ${res.requests} were sent`);
      failures += res.failures;
      samples.push(res.rps);
      ctx.log(`  ceiling ${client} run ${r + 1}: ${Math.round(res.rps)} requests/s (${res.requests} in ${seconds.toFixed(1)} s)`);
    }
  } finally {
    await s.close();
  }
  return { samples, cores, failures };
}

export const ceilingScenario: Scenario = {
  name: 'ceiling',
  title: 'Ceiling: the engine HTTP client, no database',
  async run(ctx) {
    const seconds = ceilingSeconds(ctx, ctx.cfg.runs, 2);
    const engine = await measureCeiling(ctx, 'engine', ctx.cfg.runs, seconds);
    const undici = await measureCeiling(ctx, 'undici', ctx.cfg.runs, seconds);
    const f = ctx.report.add('ceiling', 'ceiling_engine_rps', 'ceiling, engine client (WebhookSender on undici)', 'req/s', engine.samples);
    ctx.report.add('ceiling', 'ceiling_undici_rps', 'ceiling, undici Pool', 'req/s', undici.samples);
    ctx.ceilingRps = f.value;
    const stats = await ctx.receiver.stats();
    ctx.report.detail('ceiling', {
      seconds_per_run: Math.round(seconds * 10) / 10,
      concurrency: Number(ctx.cfg.serviceEnv.WEBHOOK_MAX_IN_FLIGHT),
      endpoints: ENDPOINTS,
      failures: engine.failures + undici.failures,
      cores_used_engine: engine.cores,
      cores_used_undici: undici.cores,
      signatures_checked_last_run: stats.sigChecked,
      signatures_bad_last_run: stats.sigBad,
    });
  },
};
