/**
 * The stats route's average and p95 come from counting each millisecond
 * (durationSummary); they must equal sorting all durations and taking
 * percentile_cont as PostgreSQL does (percentileCont over the sorted values).
 */
import { durationSummary, MinuteCell, percentileCont, sortedDurations } from '../../src/delivery/api/webhook-rollups';

const cell = (durations: number[]): MinuteCell => ({ succeeded: 0, failed: 0, cancelled: 0, retrying: 0, durations: Int32Array.from(durations) });

describe('durationSummary', () => {
  it('gives the count, the sum and percentile_cont of the sorted durations, across cells', () => {
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (const n of [1, 2, 3, 10, 101, 5000]) {
      const cells = [0, 1, 2].map(() => cell(Array.from({ length: n }, () => Math.floor(next() * next() * 3000) - (next() < 0.01 ? 5 : 0))));
      const sorted = sortedDurations(cells);
      const got = durationSummary(cells, [0.5, 0.95, 0.99]);
      expect(got.count).toBe(3 * n);
      expect(got.sum).toBe(sorted.reduce((s, d) => s + d, 0));
      expect(got.percentiles).toEqual([percentileCont(sorted, 0.5), percentileCont(sorted, 0.95), percentileCont(sorted, 0.99)]);
    }
  });

  it('interpolates between the two values around the rank, as percentile_cont does', () => {
    expect(durationSummary([cell([100, 300])], [0.5, 0.95]).percentiles).toEqual([200, 290]);
    expect(durationSummary([cell([]), cell([42])], [0.95]).percentiles).toEqual([42]);
    expect(durationSummary([cell([])], [0.95])).toEqual({ count: 0, sum: 0, percentiles: [null] });
  });

  it('falls back to sorting when the durations span more than a counting array should hold', () => {
    const cells = [cell([0, 10_000_000, 5, 7])];
    expect(durationSummary(cells, [0.5]).percentiles).toEqual([percentileCont(sortedDurations(cells), 0.5)]);
  });
});
