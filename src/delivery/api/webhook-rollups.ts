import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Status } from '../attempt-status';

/**
 * One webhook's attempts over a window, by minute, for its stats and its time
 * series, with the hours that are over reused (issue 10: a webhook with
 * 100,000 attempts a day made `GET /api/webhooks/{id}/stats` and its series
 * read and sort all of them on every request).
 *
 * A window is read as: the hours wholly inside it that have been over for
 * SETTLE_SECONDS, each from this instance's cache (kept 1-2 x ROLLUP_TTL_MS,
 * as the overall rollups of timeseries.service.ts) or read and then kept; and
 * the rest (the part of the first hour inside the window, the hour under way
 * and the one just over) read every time. Reading is one index range of
 * `(webhook_id, created_at) INCLUDE (status, duration_ms, event_type, …)`,
 * index-only, grouped by minute, event type and status in PostgreSQL, with the
 * durations of each group as an array.
 *
 * Exact, not approximate: counts are sums over the minutes, and the
 * durations are kept one by one (4 bytes each) so that percentiles are those
 * `percentile_cont` gives. What is kept is bounded (MAX_CACHED_DURATIONS;
 * the webhooks read least recently go first); a window that does not fit is
 * read in full each time.
 *
 * Cached hours change only while attempts of theirs are still queued (a
 * retry scheduled later moves from `retrying` to its outcome) or when the
 * webhook is deleted: they may lag by up to 2 x ROLLUP_TTL_MS, as the
 * overall series does.
 */

/** How long a rollup of an hour that is over is reused: between one and two times this. */
export const ROLLUP_TTL_MS = 60_000;
/** An hour's rollup is kept only once the hour has been over this long. */
export const SETTLE_SECONDS = 300;
/** Durations kept over all webhooks (4 bytes each): about 16 MB. */
export const MAX_CACHED_DURATIONS = 4_000_000;

export interface MinuteCell {
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Attempts queued or in flight (the queue's rows). */
  retrying: number;
  /** Durations of the attempts that have one (finished in the log), unsorted. */
  durations: Int32Array;
}

export interface TypeCounts {
  /** Finished attempts (succeeded, failed, cancelled). */
  total: number;
  succeeded: number;
  failed: number;
}

/** Attempts of a time range: by minute (epoch seconds of its start) and, finished ones, by event type. */
export interface Chunk {
  minutes: Map<number, MinuteCell>;
  byType: Map<string, TypeCounts>;
  size: number;
}

interface Row {
  m: string;
  event_type: string;
  status: string;
  n: string;
  d: number[] | null;
}

const QUEUED: readonly string[] = [Status.Pending, Status.Sending];

/** One webhook's attempts (queue and log) in [$2, $3) by minute, type and status, each group's durations as an array. */
const RANGE_SQL = `
  SELECT floor(date_part('epoch', created_at) / 60)::bigint * 60 AS m, event_type, status, count(*) AS n,
         array_agg(duration_ms) FILTER (WHERE duration_ms IS NOT NULL) AS d
  FROM webhook_attempts WHERE webhook_id = $1 AND created_at >= $2 AND created_at < $3
  GROUP BY 1, 2, 3`;

function toChunk(rows: Row[]): Chunk {
  const minutes = new Map<number, MinuteCell>();
  const byType = new Map<string, TypeCounts>();
  const parts = new Map<number, number[][]>();
  let size = 0;
  for (const r of rows) {
    const m = Number(r.m);
    const n = Number(r.n);
    let cell = minutes.get(m);
    if (!cell) minutes.set(m, (cell = { succeeded: 0, failed: 0, cancelled: 0, retrying: 0, durations: new Int32Array(0) }));
    if (r.status === Status.Succeeded) cell.succeeded += n;
    else if (r.status === Status.Failed) cell.failed += n;
    else if (r.status === Status.Cancelled) cell.cancelled += n;
    else if (QUEUED.includes(r.status)) cell.retrying += n;
    if (!QUEUED.includes(r.status)) {
      let t = byType.get(r.event_type);
      if (!t) byType.set(r.event_type, (t = { total: 0, succeeded: 0, failed: 0 }));
      t.total += n;
      if (r.status === Status.Succeeded) t.succeeded += n;
      if (r.status === Status.Failed) t.failed += n;
    }
    if (r.d?.length) {
      let p = parts.get(m);
      if (!p) parts.set(m, (p = []));
      p.push(r.d);
      size += r.d.length;
    }
  }
  for (const [m, p] of parts) minutes.get(m)!.durations = Int32Array.from(p.flat());
  return { minutes, byType, size };
}

/** percentile_cont(q) of sorted values, computed as PostgreSQL computes it (float8 interpolation between the two rows around q·(n−1)). */
export function percentileCont(sorted: Int32Array, q: number): number | null {
  if (!sorted.length) return null;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  const first = sorted[lo];
  return lo === hi ? first : first + (sorted[hi] - first) * (at - lo);
}

/** The durations of some cells, sorted. */
export function sortedDurations(cells: Iterable<MinuteCell>): Int32Array {
  const list = [...cells];
  const out = new Int32Array(list.reduce((n, c) => n + c.durations.length, 0));
  let at = 0;
  for (const c of list) {
    out.set(c.durations, at);
    at += c.durations.length;
  }
  return out.sort();
}

@Injectable()
export class WebhookRollups {
  /** Per webhook (least recently read first), per hour (epoch seconds): the hour's chunk and until when it is reused. */
  private readonly cache = new Map<string, Map<number, { until: number; chunk: Chunk }>>();
  private cached = 0;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The webhook's attempts created in [since, now), as chunks that together cover it exactly. */
  async window(webhookId: string, since: Date): Promise<Chunk[]> {
    const now = Date.now();
    const from = since.getTime();
    // whole hours inside the window that have been over long enough to keep
    const firstHour = Math.ceil(from / 3_600_000) * 3_600_000;
    const settledEnd = Math.floor((now - SETTLE_SECONDS * 1000) / 3_600_000) * 3_600_000;
    const hooks = this.touch(webhookId);
    const chunks: Chunk[] = [];
    const reads: Array<Promise<void>> = [];
    const read = (a: number, b: number | null, keep: boolean) =>
      reads.push(
        this.read(webhookId, a, b).then((c) => {
          chunks.push(c);
          if (keep && b !== null) this.keep(webhookId, a, c, now);
        }),
      );
    if (firstHour >= settledEnd) {
      read(from, null, false);
    } else {
      if (from < firstHour) read(from, firstHour, false);
      // the missing hours, close ones read as one range (re-reading a kept hour costs less than another round trip)
      let run: [number, number] | null = null;
      for (let h = firstHour; h < settledEnd; h += 3_600_000) {
        const hit = hooks.get(h);
        if (hit && now < hit.until) {
          chunks.push(hit.chunk);
          continue;
        }
        if (run && h === run[1]) run[1] = h + 3_600_000;
        else {
          if (run) this.readHours(webhookId, run, now, reads, chunks);
          run = [h, h + 3_600_000];
        }
      }
      if (run) this.readHours(webhookId, run, now, reads, chunks);
      read(settledEnd, null, false);
    }
    await Promise.all(reads);
    return chunks;
  }

  /** Reads the whole hours [run[0], run[1]) in one query and keeps each. */
  private readHours(webhookId: string, run: [number, number], now: number, reads: Array<Promise<void>>, chunks: Chunk[]): void {
    if (run[1] - run[0] === 3_600_000) {
      reads.push(
        this.read(webhookId, run[0], run[1]).then((c) => {
          chunks.push(c);
          this.keep(webhookId, run[0], c, now);
        }),
      );
      return;
    }
    reads.push(
      this.rows(webhookId, run[0], run[1]).then((rows) => {
        const byHour = new Map<number, Row[]>();
        for (let h = run[0]; h < run[1]; h += 3_600_000) byHour.set(h, []);
        for (const r of rows) byHour.get(Math.floor((Number(r.m) * 1000) / 3_600_000) * 3_600_000)!.push(r);
        for (const [h, hourRows] of byHour) {
          const c = toChunk(hourRows);
          chunks.push(c);
          this.keep(webhookId, h, c, now);
        }
      }),
    );
  }

  private async read(webhookId: string, from: number, to: number | null): Promise<Chunk> {
    return toChunk(await this.rows(webhookId, from, to));
  }

  private rows(webhookId: string, from: number, to: number | null): Promise<Row[]> {
    // the window's open end: rows are never created in the future
    return this.db.query<Row[]>(RANGE_SQL, [webhookId, new Date(from), to === null ? 'infinity' : new Date(to)]);
  }

  /** The webhook's hours, moved to the most recently read end. */
  private touch(webhookId: string): Map<number, { until: number; chunk: Chunk }> {
    let hooks = this.cache.get(webhookId);
    if (hooks) this.cache.delete(webhookId);
    else hooks = new Map();
    this.cache.set(webhookId, hooks);
    return hooks;
  }

  private keep(webhookId: string, hour: number, chunk: Chunk, now: number): void {
    const hooks = this.cache.get(webhookId);
    if (!hooks || chunk.size > MAX_CACHED_DURATIONS) return;
    const old = hooks.get(hour);
    if (old) this.cached -= old.chunk.size;
    hooks.set(hour, { until: now + ROLLUP_TTL_MS * (1 + Math.random()), chunk });
    this.cached += chunk.size;
    // drop expired hours and, beyond the bound, the webhooks read least recently (never the hour just kept)
    for (const [id, hours] of this.cache) {
      if (this.cached <= MAX_CACHED_DURATIONS) break;
      for (const [h, e] of hours) {
        if (id === webhookId && h === hour) continue;
        if (e.until <= now || id !== webhookId) {
          hours.delete(h);
          this.cached -= e.chunk.size;
        }
      }
      if (!hours.size && id !== webhookId) this.cache.delete(id);
    }
  }
}
