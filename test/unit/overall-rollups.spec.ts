/**
 * The overall series' rollups (TimeseriesService.hourly): whole hours that are
 * over and the settled beginning of the hour under way are kept, extended as
 * time passes, and only the rest is read. Against a stand-in for the one
 * query it makes (counts by grain over a list of attempts), with the clock
 * moved by hand: every answer must count what the attempts hold, except what
 * was added to an already kept part, which shows once that part expires.
 */
import type { DataSource } from 'typeorm';
import { TimeseriesService } from '../../src/delivery/api/timeseries.service';
import type { WebhookRollups } from '../../src/delivery/api/webhook-rollups';
import type { WebhooksService } from '../../src/webhooks/webhooks.service';
import { fakeClockOnly } from '../utils/fake-clock';

interface Stored {
  at: number; // epoch seconds
  status: 'succeeded' | 'failed';
}

const H = Date.UTC(2030, 0, 1, 10, 0, 0) / 1000; // 10:00 UTC

describe('overall rollups: kept hours and the kept beginning of the current one', () => {
  const attempts: Stored[] = [];
  const reads: Array<{ from: number; to: number; grain: number }> = [];
  let now = 0;
  const db = {
    query: jest.fn((_sql: string, [from, to, , grain]: [Date, Date, string[], number]) => {
      const f = from.getTime() / 1000;
      const t = to.getTime() / 1000;
      reads.push({ from: f, to: t, grain });
      const groups = new Map<number, { succeeded: number; failed: number }>();
      for (const a of attempts) {
        if (a.at < f || a.at >= t || a.at > now / 1000) continue;
        const h = Math.floor(a.at / grain) * grain;
        const g = groups.get(h) ?? { succeeded: 0, failed: 0 };
        g[a.status]++;
        groups.set(h, g);
      }
      return Promise.resolve(
        [...groups].map(([h, g]) => ({ h: String(h), bin: -1, succeeded: String(g.succeeded), failed: String(g.failed), cancelled: '0', retrying: '0' })),
      );
    }),
  };
  const webhooks = { allIds: () => Promise.resolve(['w']) };
  const service = new TimeseriesService(db as unknown as DataSource, webhooks as unknown as WebhooksService, {} as WebhookRollups);

  const add = (at: number, status: Stored['status'] = 'succeeded') => attempts.push({ at, status });
  const expected = (from: number) => {
    const out = new Map<number, number>();
    for (const a of attempts)
      if (a.at >= from && a.at <= now / 1000) out.set(Math.floor(a.at / 3600) * 3600, (out.get(Math.floor(a.at / 3600) * 3600) ?? 0) + 1);
    return out;
  };
  const answer = async () => {
    const res = await service.overall(3, '1h');
    return new Map(res.buckets.filter((b) => b.succeeded + b.failed).map((b) => [new Date(b.start).getTime() / 1000, b.succeeded + b.failed]));
  };
  const at = (seconds: number) => {
    now = seconds * 1000;
    jest.setSystemTime(now);
  };

  beforeAll(() => {
    fakeClockOnly();
    for (let s = H - 3 * 3600; s < H + 3600; s += 97) add(s, s % 5 ? 'succeeded' : 'failed');
  });
  afterAll(() => jest.useRealTimers());

  it('counts exactly on the first read, reading by hour what is settled and by 5 minutes the rest', async () => {
    at(H + 37 * 60); // 10:37: settled up to 10:30
    const since = Math.floor((now / 1000 - 3 * 3600) / 3600) * 3600 + 3600;
    expect(await answer()).toEqual(expected(since));
    expect(reads.some((r) => r.grain === 3600)).toBe(true);
    expect(reads.some((r) => r.grain === 300 && r.from <= H && r.to >= H + 3600)).toBe(true);
  });

  it('then reads only from the settled point, and sees what arrives after it', async () => {
    at(H + 37 * 60 + 10); // within a minute: everything read before is still kept
    reads.length = 0;
    add(H + 36 * 60, 'failed');
    expect((await answer()).get(H)).toBe(expected(H).get(H));
    expect(reads).toEqual([{ from: H + 30 * 60, to: H + 3600, grain: 300 }]);
  });

  it('extends the kept beginning as the settled point moves on (what lies between is read once)', async () => {
    at(H + 39 * 60 + 55); // what was kept may have expired (after 60-120 s): read again, kept again
    await answer();
    at(H + 40 * 60 + 5); // 10 s later, settled up to 10:35
    add(H + 32 * 60); // between the old and the new settled point: read with the extension
    reads.length = 0;
    expect((await answer()).get(H)).toBe(expected(H).get(H));
    expect(reads).toEqual([{ from: H + 30 * 60, to: H + 3600, grain: 300 }]);
    reads.length = 0;
    expect((await answer()).get(H)).toBe(expected(H).get(H));
    expect(reads).toEqual([{ from: H + 35 * 60, to: H + 3600, grain: 300 }]);
  });

  it('an attempt added to a kept part shows once it expires; the hour is kept whole once over', async () => {
    add(H + 10 * 60);
    expect((await answer()).get(H)).toBe(expected(H).get(H)! - 1);
    at(H + 3600 + 7 * 60); // 11:07: 10:00-11:00 settled, the kept beginning has expired (> 2 x 60 s)
    const since = Math.floor((now / 1000 - 3 * 3600) / 3600) * 3600 + 3600;
    expect(await answer()).toEqual(expected(since));
    reads.length = 0;
    expect(await answer()).toEqual(expected(since));
    expect(reads).toEqual([{ from: H + 3600, to: H + 7200, grain: 300 }]);
  });
});
