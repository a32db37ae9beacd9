import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { WebhooksService } from '../../webhooks/webhooks.service';
import { QUEUED_SQL, Status } from '../attempt-status';
import { iso } from './attempt.presenter';
import { MinuteCell, percentileCont, sortedDurations, WebhookRollups } from './webhook-rollups';

/**
 * The aggregates the console reads (and any API client may): attempts over
 * time by outcome with latency percentiles, per webhook and overall; the
 * overview; per-event delivery counts. All the SQL over the attempts (`webhook_attempts`: queue and log) for
 * these routes is in this file, so that a split or partitioned attempt table
 * changes one place.
 *
 * A webhook's series comes from its minute rollups (webhook-rollups.ts). Every
 * query reads the covering index idx_webhook_logs_webhook_created
 * `(webhook_id, created_at) INCLUDE (status, duration_ms, event_type, event_id)`
 * index-only: one range per webhook (overall: one per webhook through a
 * LATERAL join over `webhooks`, which PostgreSQL 17 cannot do by itself
 * without a skip scan), so the cost follows the attempts in the window, not
 * the table.
 */

export const BUCKETS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '6h': 21600, '1d': 86400 } as const;
export type BucketName = keyof typeof BUCKETS;
/** Most buckets one answer holds. */
export const MAX_BUCKETS = 500;

export interface TimeBucket {
  start: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Attempts queued or in flight: scheduled retries, and first attempts not sent yet. */
  retrying: number;
  p50_ms: number | null;
  p95_ms: number | null;
}

export interface TimeSeries {
  webhook_id: string | null;
  hours: number;
  bucket: BucketName;
  bucket_seconds: number;
  since: string;
  until: string;
  totals: { succeeded: number; failed: number; cancelled: number; retrying: number; success_rate: number | null };
  buckets: TimeBucket[];
}

export interface Overview {
  hours: number;
  since: string;
  totals: { succeeded: number; failed: number; cancelled: number; retrying: number; success_rate: number | null; p95_ms: number | null };
  queue: { pending: number; due: number; sending: number; oldest_due_at: string | null; oldest_due_age_seconds: number };
  webhooks: { total: number; enabled: number; disabled: number; failing: number };
  attention: Array<{
    id: string;
    name: string;
    url: string;
    enabled: boolean;
    disabled_reason: string | null;
    last_error: string | null;
    consecutive_failures: number;
    failing_since: string | null;
    last_failure_at: string | null;
  }>;
}

export interface EventDeliverySummary {
  event_id: string;
  webhooks: number;
  succeeded: number;
  failed: number;
  pending: number;
  attempts: number;
}

const num = (v: unknown): number => Number(v ?? 0);
const ms = (v: unknown): number | null => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);
const rate = (succeeded: number, failed: number): number | null => (succeeded + failed ? Math.round((succeeded / (succeeded + failed)) * 10000) / 10000 : null);

interface BucketRow {
  b: string;
  succeeded: string;
  failed: string;
  cancelled: string;
  retrying: string;
  pct: Array<number | null> | null;
}

/** Histogram bins per e-fold of duration: bin = floor(ln(1 + ms) * 20), about 5 % wide. */
const BINS_PER_E = 20;
/** How long an hourly rollup of an hour that is over is reused: between one and two times this. */
export const ROLLUP_TTL_MS = 60_000;
const MAX_ROLLUP_HOURS = 720;
/** An hour's rollup is kept only once the hour has been over this long. */
const SETTLE_SECONDS = 300;
/** The grain of what is kept of the hour under way. */
const SEGMENT_SECONDS = 300;

interface Rollup {
  succeeded: number;
  failed: number;
  cancelled: number;
  retrying: number;
  /** Attempts with a duration, by histogram bin. */
  durations: Map<number, number>;
}

const emptyRollup = (): Rollup => ({ succeeded: 0, failed: 0, cancelled: 0, retrying: 0, durations: new Map() });

function mergeInto(into: Rollup, r: Rollup): Rollup {
  into.succeeded += r.succeeded;
  into.failed += r.failed;
  into.cancelled += r.cancelled;
  into.retrying += r.retrying;
  for (const [bin, n] of r.durations) into.durations.set(bin, (into.durations.get(bin) ?? 0) + n);
  return into;
}

/** The q-quantile of a histogram: the middle of the bin it falls in. */
function percentileOf(durations: Map<number, number>, q: number): number | null {
  const bins = [...durations].sort((a, b) => a[0] - b[0]);
  const total = bins.reduce((n, [, c]) => n + c, 0);
  if (!total) return null;
  let seen = 0;
  for (const [bin, c] of bins) {
    seen += c;
    if (seen >= q * total) return Math.exp((bin + 0.5) / BINS_PER_E) - 1;
  }
  return null;
}

interface RollupRow {
  h: string;
  bin: number;
  succeeded: string;
  failed: string;
  cancelled: string;
  retrying: string;
}

/** Counts by status and duration bin per $4 seconds (an hour or 5 minutes) over the webhooks $3 for created_at in [$1, $2): one index range per webhook, index-only. */
const ROLLUP_SQL = `
  SELECT floor(extract(epoch FROM l.created_at) / $4::int)::bigint * $4::int AS h,
         CASE WHEN l.duration_ms IS NULL THEN -1 ELSE floor(ln(1 + greatest(l.duration_ms, 0)) * ${BINS_PER_E})::int END AS bin,
         count(*) FILTER (WHERE l.status = '${Status.Succeeded}') AS succeeded,
         count(*) FILTER (WHERE l.status = '${Status.Failed}') AS failed,
         count(*) FILTER (WHERE l.status = '${Status.Cancelled}') AS cancelled,
         count(*) FILTER (WHERE l.status IN ${QUEUED_SQL}) AS retrying
  FROM unnest($3::uuid[]) AS w(id) CROSS JOIN LATERAL (
    SELECT created_at, status, duration_ms FROM webhook_attempts x WHERE x.webhook_id = w.id AND x.created_at >= $1 AND x.created_at < $2
  ) l GROUP BY 1, 2`;

@Injectable()
export class TimeseriesService {
  private readonly rollups = new Map<number, { until: number; upTo: number; rollup: Rollup }>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly webhooks: WebhooksService,
    private readonly webhookRollups: WebhookRollups,
  ) {}

  /**
   * One webhook's attempts in the last `hours`, by `bucket` (created_at), from its minute rollups (webhook-rollups.ts:
   * hours that are over reused, the rest read); percentiles exact (`percentile_cont` of each bucket's durations).
   */
  async forWebhook(webhookId: string, hours: number, bucket: BucketName): Promise<TimeSeries> {
    const { since, until, seconds } = this.window(hours, bucket);
    const chunks = await this.webhookRollups.window(webhookId, since);
    const cells = new Map<number, MinuteCell[]>();
    for (const c of chunks) {
      for (const [m, cell] of c.minutes) {
        const b = Math.floor(m / seconds) * seconds;
        const list = cells.get(b);
        if (list) list.push(cell);
        else cells.set(b, [cell]);
      }
    }
    const rows: BucketRow[] = [...cells].map(([b, list]) => {
      const durations = sortedDurations(list);
      const sum = (k: 'succeeded' | 'failed' | 'cancelled' | 'retrying') => String(list.reduce((n, c) => n + c[k], 0));
      return {
        b: String(b),
        succeeded: sum('succeeded'),
        failed: sum('failed'),
        cancelled: sum('cancelled'),
        retrying: sum('retrying'),
        pct: durations.length ? [percentileCont(durations, 0.5), percentileCont(durations, 0.95)] : null,
      };
    });
    return this.series(webhookId, hours, bucket, since, until, rows);
  }

  /**
   * All webhooks' attempts, by hour or wider (`1h`, `6h`, `1d`), assembled
   * from hourly rollups (see `hourly`). Percentiles from the merged
   * histograms, within about 5 %.
   */
  async overall(hours: number, bucket: BucketName): Promise<TimeSeries> {
    const { since, until, seconds } = this.window(hours, bucket);
    const rollups = await this.hourly(since, until);
    const byBucket = new Map<number, Rollup>();
    for (const [hour, r] of rollups) {
      const b = Math.floor(hour / seconds) * seconds;
      byBucket.set(b, mergeInto(byBucket.get(b) ?? emptyRollup(), r));
    }
    const rows: BucketRow[] = [...byBucket].map(([b, r]) => ({
      b: String(b),
      succeeded: String(r.succeeded),
      failed: String(r.failed),
      cancelled: String(r.cancelled),
      retrying: String(r.retrying),
      pct: r.durations.size ? [percentileOf(r.durations, 0.5), percentileOf(r.durations, 0.95)] : null,
    }));
    return this.series(null, hours, bucket, since, until, rows);
  }

  /**
   * Hourly rollups over all webhooks for [since, until): counts by status and
   * a log-scale histogram of durations (bins of ~5 %). What has been over for
   * SETTLE_SECONDS (up to the last 5-minute boundary before it) is kept per
   * instance for 1-2 × ROLLUP_TTL_MS (its rows change only while attempts of
   * theirs are still queued, or when a webhook is deleted): whole hours, and
   * of the hour under way (or just over) its settled beginning, extended as
   * time passes. Only the last 5-10 minutes are read every time, whatever
   * the minute of the hour. Reading is one index range per webhook (LATERAL
   * over `webhooks`), index-only.
   */
  private async hourly(since: Date, until: Date): Promise<Map<number, Rollup>> {
    const now = Date.now();
    const first = Math.floor(since.getTime() / 3_600_000) * 3600;
    const current = Math.floor(until.getTime() / 3_600_000) * 3600;
    // rows created before `settled` (epoch seconds, on a 5-minute boundary) are kept once read
    const settled = Math.floor((now / 1000 - SETTLE_SECONDS) / SEGMENT_SECONDS) * SEGMENT_SECONDS;
    const out = new Map<number, Rollup>();
    /** Per hour to read: from where (the end of its kept beginning, if any), and the grain its rows are needed at. */
    const reads: Array<{ hour: number; from: number; to: number; grain: number }> = [];
    const prefixes = new Map<number, { until: number; upTo: number; rollup: Rollup }>();
    for (let h = first; h <= current; h += 3600) {
      const cached = this.rollups.get(h);
      const live = cached && now < cached.until ? cached : undefined;
      if (live && live.upTo >= h + 3600) {
        out.set(h, live.rollup);
        continue;
      }
      if (live) prefixes.set(h, live);
      const from = live ? live.upTo : h;
      // by hour when all of it is settled and read whole, else by 5 minutes (split at the settled point)
      reads.push({ hour: h, from, to: h + 3600, grain: !live && h + 3600 <= settled ? 3600 : SEGMENT_SECONDS });
    }
    if (!reads.length) return out;
    // the ranges to read, close ones of the same grain merged (re-reading a little costs less than another index range per webhook)
    const ranges: Array<{ from: number; to: number; grain: number }> = [];
    for (const r of reads) {
      const last = ranges[ranges.length - 1];
      if (last && last.grain === r.grain && r.from - last.to <= 6 * 3600) last.to = r.to;
      else ranges.push({ from: r.from, to: r.to, grain: r.grain });
    }
    const ids = await this.webhooks.allIds();
    const rows: RollupRow[] = [];
    for (const r of ranges) rows.push(...(await this.db.query<RollupRow[]>(ROLLUP_SQL, [new Date(r.from * 1000), new Date(r.to * 1000), ids, r.grain])));
    // per hour read: what may be kept (before `settled`, after its kept beginning) and what is read fresh every time
    const kept = new Map<number, Rollup>(reads.map((r) => [r.hour, emptyRollup()]));
    const fresh = new Map<number, Rollup>(reads.map((r) => [r.hour, emptyRollup()]));
    for (const row of rows) {
      const segment = Number(row.h);
      const h = Math.floor(segment / 3600) * 3600;
      // an hour kept whole (read only because it lies between two ranges), or rows its kept beginning already holds
      if (!kept.has(h) || segment < (prefixes.get(h)?.upTo ?? h)) continue;
      const roll = segment < settled ? kept.get(h)! : fresh.get(h)!;
      const n = num(row.succeeded) + num(row.failed) + num(row.cancelled) + num(row.retrying);
      roll.succeeded += num(row.succeeded);
      roll.failed += num(row.failed);
      roll.cancelled += num(row.cancelled);
      roll.retrying += num(row.retrying);
      if (row.bin >= 0) roll.durations.set(row.bin, (roll.durations.get(row.bin) ?? 0) + n);
    }
    for (const r of reads) {
      const prefix = prefixes.get(r.hour);
      const keep = prefix ? mergeInto(mergeInto(emptyRollup(), prefix.rollup), kept.get(r.hour)!) : kept.get(r.hour)!;
      const upTo = Math.max(r.from, Math.min(r.hour + 3600, settled));
      // each hour kept for its own 1-2 × ROLLUP_TTL_MS, so that they expire a few at a time rather than all at once;
      // a kept beginning that grows keeps its expiry, so that it is read from the start again that often
      if (upTo > r.hour) this.rollups.set(r.hour, { until: prefix?.until ?? now + ROLLUP_TTL_MS * (1 + Math.random()), upTo, rollup: keep });
      out.set(r.hour, mergeInto(mergeInto(emptyRollup(), keep), fresh.get(r.hour)!));
    }
    for (const h of this.rollups.keys()) if (h < current - MAX_ROLLUP_HOURS * 3600) this.rollups.delete(h);
    return out;
  }

  /** The overview page in one answer: totals and p95 over the window (from the start of its first hour), the queue, the webhooks that need attention. */
  async overview(hours: number): Promise<Overview> {
    const since = new Date(Date.now() - hours * 3_600_000);
    const [rollups, [queue], [hooks], attention] = await Promise.all([
      this.hourly(since, new Date()),
      // the delivery queue only: as long as the queue, not the log
      this.db.query<Array<Record<string, string | Date | null>>>(
        `SELECT count(*) FILTER (WHERE NOT leased) AS pending,
                count(*) FILTER (WHERE NOT leased AND scheduled_at <= now()) AS due,
                count(*) FILTER (WHERE leased) AS sending,
                min(scheduled_at) FILTER (WHERE NOT leased AND scheduled_at <= now()) AS oldest_due_at
         FROM (SELECT scheduled_at, COALESCE(locked_until > now(), false) AS leased FROM delivery_queue) AS q`,
      ),
      this.webhooks.countByState().then((c) => [c]),
      this.webhooks.needingAttention(20),
    ]);
    const agg = [...rollups.values()].reduce((sum, r) => mergeInto(sum, r), emptyRollup());
    const { succeeded, failed } = agg;
    const oldest = queue.oldest_due_at ? new Date(queue.oldest_due_at) : null;
    return {
      hours,
      since: since.toISOString(),
      totals: {
        succeeded,
        failed,
        cancelled: agg.cancelled,
        retrying: agg.retrying,
        success_rate: rate(succeeded, failed),
        p95_ms: ms(percentileOf(agg.durations, 0.95)),
      },
      queue: {
        pending: num(queue.pending),
        due: num(queue.due),
        sending: num(queue.sending),
        oldest_due_at: iso(oldest),
        oldest_due_age_seconds: oldest ? Math.max(0, Math.round((Date.now() - oldest.getTime()) / 1000)) : 0,
      },
      webhooks: { total: num(hooks.total), enabled: num(hooks.enabled), disabled: num(hooks.disabled), failing: num(hooks.failing) },
      attention: attention.map((w) => ({
        ...w,
        failing_since: iso(w.failing_since),
        last_failure_at: iso(w.last_failure_at),
      })),
    };
  }

  /** For each event: how many webhooks got an attempt, and how many of those got it delivered, failed for good, or are still trying. */
  async eventSummaries(eventIds: string[]): Promise<EventDeliverySummary[]> {
    if (eventIds.length === 0) return [];
    const rows = await this.db.query<Array<Record<string, string>>>(
      `SELECT e.id AS event_id, count(DISTINCT p.webhook_id) AS webhooks, count(*) FILTER (WHERE p.webhook_id IS NOT NULL) AS attempts,
              count(DISTINCT p.webhook_id) FILTER (WHERE p.status = '${Status.Succeeded}') AS succeeded,
              count(DISTINCT p.webhook_id) FILTER (WHERE p.status IN ${QUEUED_SQL}) AS pending
       FROM unnest($1::uuid[]) AS e(id) LEFT JOIN webhook_attempts p ON p.event_id = e.id
       GROUP BY e.id`,
      [[...new Set(eventIds)]],
    );
    return rows.map((r) => {
      const webhooks = num(r.webhooks);
      const succeeded = num(r.succeeded);
      const pending = Math.min(num(r.pending), webhooks - succeeded);
      return { event_id: r.event_id, webhooks, succeeded, pending, failed: Math.max(0, webhooks - succeeded - pending), attempts: num(r.attempts) };
    });
  }

  private window(hours: number, bucket: BucketName): { since: Date; until: Date; seconds: number } {
    const seconds = BUCKETS[bucket];
    const until = new Date();
    // aligned to the bucket, so that consecutive polls return the same bucket starts
    const sinceSeconds = Math.floor((until.getTime() / 1000 - hours * 3600) / seconds) * seconds + seconds;
    return { since: new Date(sinceSeconds * 1000), until, seconds };
  }

  /** Every bucket of the window, the empty ones as zeros, so charts get a regular x axis. */
  private series(webhookId: string | null, hours: number, bucket: BucketName, since: Date, until: Date, rows: BucketRow[]): TimeSeries {
    const seconds = BUCKETS[bucket];
    const byStart = new Map(rows.map((r) => [Number(r.b), r]));
    const buckets: TimeBucket[] = [];
    const totals = { succeeded: 0, failed: 0, cancelled: 0, retrying: 0 };
    for (let t = since.getTime() / 1000; t * 1000 <= until.getTime(); t += seconds) {
      const r = byStart.get(t);
      const b: TimeBucket = {
        start: new Date(t * 1000).toISOString(),
        succeeded: num(r?.succeeded),
        failed: num(r?.failed),
        cancelled: num(r?.cancelled),
        retrying: num(r?.retrying),
        p50_ms: ms(r?.pct?.[0]),
        p95_ms: ms(r?.pct?.[1]),
      };
      totals.succeeded += b.succeeded;
      totals.failed += b.failed;
      totals.cancelled += b.cancelled;
      totals.retrying += b.retrying;
      buckets.push(b);
    }
    return {
      webhook_id: webhookId,
      hours,
      bucket,
      bucket_seconds: seconds,
      since: since.toISOString(),
      until: until.toISOString(),
      totals: { ...totals, success_rate: rate(totals.succeeded, totals.failed) },
      buckets,
    };
  }
}
