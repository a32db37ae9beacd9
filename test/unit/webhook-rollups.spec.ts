/**
 * A webhook's window (WebhookRollups.window): the 5-minute pieces that are
 * over are kept and only the window's first piece (in part) and its last
 * minutes are read again; what is kept stays bounded. Against a stand-in for
 * its one query (groups by minute over a list of attempts), the clock moved
 * by hand.
 */
import type { DataSource } from 'typeorm';
import { MAX_CACHED_DURATIONS, PIECE_MS, WebhookRollups } from '../../src/delivery/api/webhook-rollups';
import { fakeClockOnly } from '../utils/fake-clock';

const T0 = Date.UTC(2030, 0, 1, 12, 2, 30); // 12:02:30 UTC

describe('WebhookRollups.window', () => {
  const attempts = new Map<string, number[]>(); // webhook → created_at (ms), one attempt each
  const reads: Array<{ webhook: string; from: number; to: number }> = [];
  const db = {
    query: jest.fn((_sql: string, [webhook, from, to]: [string, Date, Date | string]) => {
      const f = from.getTime();
      const t = to === 'infinity' ? Infinity : (to as Date).getTime();
      reads.push({ webhook, from: f, to: t });
      const groups = new Map<number, number[]>();
      for (const at of attempts.get(webhook) ?? []) {
        if (at < f || at >= t || at > Date.now()) continue;
        const m = Math.floor(at / 60_000) * 60;
        groups.set(m, [...(groups.get(m) ?? []), at % 1000]);
      }
      return Promise.resolve([...groups].map(([m, d]) => ({ m: String(m), event_type: 'service.started', status: 'succeeded', n: String(d.length), d })));
    }),
  };
  const rollups = new WebhookRollups(db as unknown as DataSource);
  const count = async (webhook: string, since: number) =>
    (await rollups.window(webhook, new Date(since))).reduce((n, c) => n + [...c.minutes.values()].reduce((k, cell) => k + cell.succeeded, 0), 0);
  const expected = (webhook: string, since: number) => (attempts.get(webhook) ?? []).filter((at) => at >= since && at <= Date.now()).length;

  beforeAll(() => {
    fakeClockOnly();
    jest.setSystemTime(T0);
    // one attempt every 7 s over the last 30 hours
    attempts.set(
      'big',
      Array.from({ length: (30 * 3600) / 7 }, (_, i) => T0 - i * 7000 - 123),
    );
  });
  afterAll(() => jest.useRealTimers());

  it('reads the whole window once, then only its first piece in part and the last 5-10 minutes', async () => {
    const since = T0 - 24 * 3_600_000;
    expect(await count('big', since)).toBe(expected('big', since));
    reads.length = 0;
    jest.setSystemTime(T0 + 20_000);
    const later = Date.now() - 24 * 3_600_000;
    expect(await count('big', later)).toBe(expected('big', later));
    const settled = Math.floor((Date.now() - 300_000) / PIECE_MS) * PIECE_MS;
    expect(reads).toEqual([
      { webhook: 'big', from: later, to: Math.ceil(later / PIECE_MS) * PIECE_MS },
      { webhook: 'big', from: settled, to: Infinity },
    ]);
    expect(settled).toBeGreaterThanOrEqual(Date.now() - 600_000);
  });

  it('sees attempts added in the last minutes at once; pieces that expired are read again (as one range)', async () => {
    attempts.get('big')!.push(Date.now() - 1000);
    const since = Date.now() - 24 * 3_600_000;
    expect(await count('big', since)).toBe(expected('big', since));
    jest.setSystemTime(Date.now() + 131_000); // every kept piece has expired (after 60-120 s)
    reads.length = 0;
    const later = Date.now() - 24 * 3_600_000;
    expect(await count('big', later)).toBe(expected('big', later));
    // the first piece in part, all the expired ones as one range, the last minutes
    expect(reads).toHaveLength(3);
  });

  it('stays within its bound: the webhooks read least recently are dropped first', async () => {
    // many webhooks with long windows of empty pieces: each piece costs even without attempts
    for (let i = 0; i < 40; i++) await rollups.window(`empty-${i}`, new Date(Date.now() - 720 * 3_600_000));
    const internal = rollups as unknown as { cached: number; cache: Map<string, Map<number, unknown>> };
    expect(internal.cached).toBeLessThanOrEqual(MAX_CACHED_DURATIONS + 720 * 12 * 64);
    expect(internal.cache.has('empty-39')).toBe(true);
    expect(internal.cache.get('big')?.size ?? 0).toBe(0);
  });
});
