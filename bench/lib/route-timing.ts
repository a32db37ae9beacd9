/** Timing of the read routes, shared by the `reads` and `scale` scenarios. */
import type { ApiClient } from './api';
import { distribution } from './stats';

/** One GET that must answer 200; its time in ms. */
export async function timed(api: ApiClient, path: string): Promise<number> {
  const res = await api.request('GET', path);
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
  return res.ms;
}

export const r2 = (v: number): number => Math.round(v * 100) / 100;

export interface RouteTiming {
  p50: number;
  p95: number;
  max: number;
  /** p50/p95/p99/max in ms (two decimals), and for per-webhook routes the p95 of the big and of the small webhooks. */
  summary: Record<string, number>;
}

/**
 * `requests` sequential GETs of one route: even requests to a big webhook,
 * odd ones to a small one (`hookAt(i, isBig)` says which), the path from
 * `pathFor(hook, i)`.
 */
export async function timeRoute<H>(
  api: ApiClient,
  requests: number,
  hookAt: (i: number, isBig: boolean) => H,
  pathFor: (hook: H, i: number) => string,
  perWebhook: boolean,
): Promise<RouteTiming> {
  const all: number[] = [];
  const bigMs: number[] = [];
  const smallMs: number[] = [];
  for (let i = 0; i < requests; i++) {
    const isBig = i % 2 === 0;
    const ms = await timed(api, pathFor(hookAt(i, isBig), i));
    all.push(ms);
    if (perWebhook) (isBig ? bigMs : smallMs).push(ms);
  }
  const d = distribution(all);
  return {
    p50: d.p50,
    p95: d.p95,
    max: d.max,
    summary: {
      p50_ms: r2(d.p50),
      p95_ms: r2(d.p95),
      p99_ms: r2(d.p99),
      max_ms: r2(d.max),
      ...(perWebhook ? { big_p95_ms: r2(distribution(bigMs).p95), small_p95_ms: r2(distribution(smallMs).p95) } : {}),
    },
  };
}
