import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Status } from '../attempt-status';

/**
 * One webhook's attempts over a window, by minute, for its stats and its time
 * series, with the 5-minute pieces that are over reused (issue 10: a webhook with
 * 100,000 attempts a day made `GET /api/webhooks/{id}/stats` and its series
 * read and sort all of them on every request).
 *
 * A window is read as: the 5-minute pieces wholly inside it that have been
 * over for SETTLE_SECONDS, each from this instance's cache (kept 1-2 x
 * ROLLUP_TTL_MS, as the overall rollups of timeseries.service.ts) or read and
 * then kept; and the rest (the part of the first piece inside the window, the
 * last 5-10 minutes) read every time. Reading is one index range of
 * `(webhook_id, created_at) INCLUDE (status, duration_ms, event_type, …)`,
 * index-only, grouped by minute, event type and status in PostgreSQL, with the
 * durations of each group as an array.
 *
 * Exact, not approximate: counts are sums over the minutes, and the
 * durations are kept one by one (4 bytes each) so that percentiles are those
 * `percentile_cont` gives. What is kept is bounded (MAX_CACHED_DURATIONS,
 * durations and a fixed cost per piece; beyond it the webhooks read least
 * recently go first, then the expired pieces of the one being read).
 *
 * Cached pieces change only while attempts of theirs are still queued (a
 * retry scheduled later moves from `retrying` to its outcome) or when the
 * webhook is deleted: they may lag by up to 2 x ROLLUP_TTL_MS, as the
 * overall series does.
 */

/** What is kept: 5-minute pieces of a webhook's attempts (so that only the first and the last few minutes of a window are read). */
export const PIECE_MS = 300_000;
/** Missing pieces this close are read as one range. */
const MERGE_GAP_MS = 3_600_000;
/** How long a rollup of a piece that is over is reused: between one and two times this. */
export const ROLLUP_TTL_MS = 60_000;
/** A piece's rollup is kept only once the piece has been over this long. */
export const SETTLE_SECONDS = 300;
/** What is kept over all webhooks, in durations (4 bytes each) plus PIECE_COST per piece: about 16 MB. */
export const MAX_CACHED_DURATIONS = 4_000_000;
/** What a kept piece costs besides its durations (its maps), counted in durations. */
const PIECE_COST = 64;

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

/** The chunk of a piece without attempts (shared: chunks are not changed once made). */
const EMPTY: Chunk = { minutes: new Map(), byType: new Map(), size: 0 };

function toChunk(rows: Row[]): Chunk {
  if (!rows.length) return EMPTY;
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

/**
 * Count, sum and percentile_cont(q) for each q of the durations of some cells (the whole window of the stats route:
 * ~100,000 for a busy webhook's day), by counting each whole millisecond instead of sorting them all.
 */
export function durationSummary(cells: Iterable<MinuteCell>, qs: number[]): { count: number; sum: number; percentiles: Array<number | null> } {
  const list = [...cells];
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  let sum = 0;
  for (const c of list)
    for (const d of c.durations) {
      if (d < min) min = d;
      if (d > max) max = d;
      count++;
      sum += d;
    }
  if (!count) return { count, sum, percentiles: qs.map(() => null) };
  if (max - min > 1 << 22) {
    const sorted = sortedDurations(list);
    return { count, sum, percentiles: qs.map((q) => percentileCont(sorted, q)) };
  }
  const counts = new Int32Array(max - min + 1);
  for (const c of list) for (const d of c.durations) counts[d - min]++;
  /** The value at 0-based rank `k` of the sorted durations. */
  const at = (k: number): number => {
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen > k) return i + min;
    }
    return max;
  };
  return {
    count,
    sum,
    percentiles: qs.map((q) => {
      const pos = q * (count - 1);
      const lo = Math.floor(pos);
      const hi = Math.ceil(pos);
      const first = at(lo);
      return lo === hi ? first : first + (at(hi) - first) * (pos - lo);
    }),
  };
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
  /** Per webhook (least recently read first), per piece (epoch ms of its start): the piece's chunk and until when it is reused. */
  private readonly cache = new Map<string, Map<number, { until: number; chunk: Chunk }>>();
  private cached = 0;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The webhook's attempts created in [since, now), as chunks that together cover it exactly. */
  async window(webhookId: string, since: Date): Promise<Chunk[]> {
    const now = Date.now();
    const from = since.getTime();
    // whole pieces inside the window that have been over long enough to keep
    const firstPiece = Math.ceil(from / PIECE_MS) * PIECE_MS;
    const settledEnd = Math.floor((now - SETTLE_SECONDS * 1000) / PIECE_MS) * PIECE_MS;
    const hooks = this.touch(webhookId);
    const chunks: Chunk[] = [];
    const reads: Array<Promise<void>> = [];
    /** Reads a part that is not kept (the window's first piece in part, the last minutes). */
    const read = (a: number, b: number | null) => reads.push(this.read(webhookId, a, b).then((c) => void chunks.push(c)));
    if (firstPiece >= settledEnd) {
      read(from, null);
    } else {
      if (from < firstPiece) read(from, firstPiece);
      // the missing pieces as ranges, close ones merged (re-reading a few kept pieces costs less than another query)
      const runs: Array<[number, number]> = [];
      for (let h = firstPiece; h < settledEnd; h += PIECE_MS) {
        const hit = hooks.get(h);
        if (hit && now < hit.until) continue;
        const last = runs[runs.length - 1];
        if (last && h - last[1] <= MERGE_GAP_MS) last[1] = h + PIECE_MS;
        else runs.push([h, h + PIECE_MS]);
      }
      let r = 0;
      for (let h = firstPiece; h < settledEnd; h += PIECE_MS) {
        while (r < runs.length && runs[r][1] <= h) r++;
        if (r < runs.length && runs[r][0] <= h) continue; // read below
        chunks.push(hooks.get(h)!.chunk);
      }
      for (const run of runs) this.readPieces(webhookId, run, now, reads, chunks);
      read(settledEnd, null);
    }
    await Promise.all(reads);
    return chunks;
  }

  /** Reads the whole pieces [run[0], run[1]) in one query and keeps each. */
  private readPieces(webhookId: string, run: [number, number], now: number, reads: Array<Promise<void>>, chunks: Chunk[]): void {
    if (run[1] - run[0] === PIECE_MS) {
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
        const byPiece = new Map<number, Row[]>();
        for (let h = run[0]; h < run[1]; h += PIECE_MS) byPiece.set(h, []);
        for (const r of rows) byPiece.get(Math.floor((Number(r.m) * 1000) / PIECE_MS) * PIECE_MS)!.push(r);
        for (const [h, pieceRows] of byPiece) {
          const c = toChunk(pieceRows);
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

  /** The webhook's pieces, moved to the most recently read end. */
  private touch(webhookId: string): Map<number, { until: number; chunk: Chunk }> {
    let hooks = this.cache.get(webhookId);
    if (hooks) this.cache.delete(webhookId);
    else hooks = new Map();
    this.cache.set(webhookId, hooks);
    return hooks;
  }

  private keep(webhookId: string, hour: number, chunk: Chunk, now: number): void {
    const hooks = this.cache.get(webhookId);
    if (!hooks || chunk.size + PIECE_COST > MAX_CACHED_DURATIONS) return;
    const old = hooks.get(hour);
    if (old) this.cached -= old.chunk.size + PIECE_COST;
    hooks.set(hour, { until: now + ROLLUP_TTL_MS * (1 + Math.random()), chunk });
    this.cached += chunk.size + PIECE_COST;
    // beyond the bound: expired pieces, and the webhooks read least recently (never the piece just kept)
    for (const [id, hours] of this.cache) {
      if (this.cached <= MAX_CACHED_DURATIONS) break;
      for (const [h, e] of hours) {
        if (id === webhookId && h === hour) continue;
        if (e.until <= now || id !== webhookId) {
          hours.delete(h);
          this.cached -= e.chunk.size + PIECE_COST;
        }
      }
      if (!hours.size && id !== webhookId) this.cache.delete(id);
    }
  }
}
