/**
 * The read routes the web console is built on (usable without it): time series
 * per webhook and overall, the overview, per-event delivery counts; and the
 * serving of the console itself at / beside the API.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { consoleDir } from '../../src/console/serve-console';
import { CaptureServer, eventually } from '../utils/capture-server';
import { queryDb } from '../utils/delivery-db';
import { createTestApp, TestApp } from '../utils/test-app';

describe('console reads and the console at /', () => {
  let t: TestApp;
  let admin: string;
  let viewer: string;
  const ok = new CaptureServer(() => ({ status: 200, body: 'ok' }));
  const failing = new CaptureServer(() => ({ status: 500, body: 'nope' }));
  let okId: string;
  let failingId: string;
  const eventIds: string[] = [];
  const threeHoursAgo = new Date(Date.now() - 3 * 3_600_000);

  const get = (path: string, token = admin) => t.http().get(path).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    [t] = await Promise.all([createTestApp(), ok.start(), failing.start()]);
    admin = await t.login();
    await t
      .http()
      .post('/api/users')
      .set('Authorization', `Bearer ${admin}`)
      .send({ username: 'viewer1', password: 'viewer-pass-1', role: 'viewer' })
      .expect(201);
    viewer = await t.login('viewer1', 'viewer-pass-1');
    const create = async (name: string, url: string) =>
      (
        await t
          .http()
          .post('/api/webhooks')
          .set('Authorization', `Bearer ${admin}`)
          .send({ name, url, events: ['service.*'], retry_enabled: false })
          .expect(201)
      ).body.id as string;
    okId = await create('healthy', `${ok.url}/in`);
    failingId = await create('failing', `${failing.url}/in`);
    for (let i = 0; i < 3; i++) {
      const res = await t.http().post('/api/events').set('Authorization', `Bearer ${admin}`).send({ type: 'service.started', data: { i } }).expect(202);
      eventIds.push(res.body.id as string);
    }
    await Promise.all([ok.waitFor(3), failing.waitFor(3)]);
    await eventually(async () => {
      const rows = await queryDb<{ n: number }>(t.databaseUrl, `SELECT count(*)::int AS n FROM webhook_logs WHERE status IN ('succeeded', 'failed')`);
      return rows[0].n === 6;
    });
    // history three hours back for the healthy webhook: two finished attempts (100 and 300 ms) and a retry queued
    await queryDb(
      t.databaseUrl,
      `INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, duration_ms, status_code, created_at, finished_at)
       VALUES ($1, $2, $3, 'service.started', 2, 'recover', 'succeeded', true, $3, 100, 200, $3, $3),
              ($1, $2, $3, 'service.started', 3, 'recover', 'succeeded', true, $3, 300, 200, $3, $3)`,
      [okId, eventIds[0], threeHoursAgo],
    );
    await queryDb(
      t.databaseUrl,
      `INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, created_at)
       VALUES ($1, $2, $3, 'service.started', 4, 'recover', now() + interval '1 hour', $3)`,
      [okId, eventIds[0], threeHoursAgo],
    );
  });

  afterAll(async () => {
    await t?.close();
    await ok.close();
    await failing.close();
  });

  const bucketOf = (buckets: Array<{ start: string }>, at: Date) =>
    buckets.find((b) => new Date(b.start).getTime() <= at.getTime() && at.getTime() < new Date(b.start).getTime() + 3_600_000);

  describe('GET /api/webhooks/{id}/stats/timeseries', () => {
    it('counts attempts by outcome per bucket with the latency percentiles, every bucket of the window present', async () => {
      const res = await get(`/api/webhooks/${okId}/stats/timeseries?hours=24&bucket=1h`).expect(200);
      expect(res.body).toMatchObject({ webhook_id: okId, hours: 24, bucket: '1h', bucket_seconds: 3600 });
      const buckets = res.body.buckets as Array<{
        start: string;
        succeeded: number;
        failed: number;
        retrying: number;
        p50_ms: number | null;
        p95_ms: number | null;
      }>;
      expect(buckets).toHaveLength(24);
      buckets.forEach((b, i) => {
        expect(new Date(b.start).getTime() % 3_600_000).toBe(0);
        if (i) expect(new Date(b.start).getTime() - new Date(buckets[i - 1].start).getTime()).toBe(3_600_000);
      });
      expect(bucketOf(buckets, threeHoursAgo)).toMatchObject({ succeeded: 2, failed: 0, retrying: 1, p50_ms: 200, p95_ms: 290 });
      expect(buckets[buckets.length - 1]).toMatchObject({ succeeded: 3, failed: 0, retrying: 0 });
      expect(res.body.totals).toEqual({ succeeded: 5, failed: 0, cancelled: 0, retrying: 1, success_rate: 1 });
      const empty = buckets.filter((b) => b !== bucketOf(buckets, threeHoursAgo) && b !== buckets[buckets.length - 1]);
      expect(empty.every((b) => b.succeeded + b.failed + b.retrying === 0 && b.p50_ms === null)).toBe(true);
    });

    it("counts the failing webhook's failures, and 5-minute buckets cover the window", async () => {
      const res = await get(`/api/webhooks/${failingId}/stats/timeseries?hours=2&bucket=5m`).expect(200);
      expect(res.body.buckets).toHaveLength(24);
      expect(res.body.totals).toMatchObject({ succeeded: 0, failed: 3, success_rate: 0 });
    });

    it('refuses a bad bucket, too many buckets, a bad id, and an unknown webhook', async () => {
      expect((await get(`/api/webhooks/${okId}/stats/timeseries?bucket=7m`).expect(400)).body.message).toMatch(/^bucket must be one of/);
      expect((await get(`/api/webhooks/${okId}/stats/timeseries?hours=720&bucket=1m`).expect(400)).body.message).toContain('at most 500');
      expect((await get(`/api/webhooks/${okId}/stats/timeseries?hours=0`).expect(400)).body.message).toMatch(/hours/);
      await get('/api/webhooks/not-a-uuid/stats/timeseries').expect(400);
      await get('/api/webhooks/00000000-0000-4000-8000-000000000000/stats/timeseries').expect(404);
      await t.http().get(`/api/webhooks/${okId}/stats/timeseries`).expect(401);
    });
  });

  describe('GET /api/webhooks/stats/timeseries (all webhooks)', () => {
    it('adds up every webhook, with percentiles from the merged histograms', async () => {
      const res = await get('/api/webhooks/stats/timeseries?hours=24&bucket=1h', viewer).expect(200);
      expect(res.body.webhook_id).toBeNull();
      expect(res.body.buckets).toHaveLength(24);
      expect(res.body.totals).toEqual({ succeeded: 5, failed: 3, cancelled: 0, retrying: 1, success_rate: 0.625 });
      const back = bucketOf(res.body.buckets, threeHoursAgo)!;
      expect(back).toMatchObject({ succeeded: 2, retrying: 1 });
      // within the histogram's ~5 % bins
      expect(Math.abs((back as unknown as { p50_ms: number }).p50_ms - 100) / 100).toBeLessThan(0.05);
      expect(Math.abs((back as unknown as { p95_ms: number }).p95_ms - 300) / 300).toBeLessThan(0.05);
      const days = await get('/api/webhooks/stats/timeseries?hours=168&bucket=1d').expect(200);
      expect(days.body.totals).toMatchObject({ succeeded: 5, failed: 3 });
    });

    it('takes buckets of an hour or more only', async () => {
      expect((await get('/api/webhooks/stats/timeseries?bucket=5m').expect(400)).body.message).toContain('1h, 6h or 1d');
    });
  });

  describe('GET /api/webhooks/stats/overview', () => {
    it('gives the totals, the queue and the webhooks that need attention; a disabled one comes first with its reason', async () => {
      const res = await get('/api/webhooks/stats/overview?hours=24', viewer).expect(200);
      expect(res.body.totals).toMatchObject({ succeeded: 5, failed: 3, retrying: 1, success_rate: 0.625 });
      expect(res.body.totals.p95_ms).toBeGreaterThan(0);
      expect(res.body.queue).toMatchObject({ pending: 1, due: 0, sending: 0, oldest_due_at: null, oldest_due_age_seconds: 0 });
      expect(res.body.webhooks).toEqual({ total: 2, enabled: 2, disabled: 0, failing: 1 });
      expect(res.body.attention).toHaveLength(1);
      expect(res.body.attention[0]).toMatchObject({ id: failingId, name: 'failing', enabled: true, consecutive_failures: 3 });
      expect(res.body.attention[0].last_error).toContain('500');

      await t.http().post(`/api/webhooks/${okId}/toggle`).set('Authorization', `Bearer ${admin}`).expect(200);
      const after = await get('/api/webhooks/stats/overview').expect(200);
      expect(after.body.webhooks).toEqual({ total: 2, enabled: 1, disabled: 1, failing: 1 });
      expect(after.body.attention.map((w: { id: string }) => w.id)).toEqual([okId, failingId]);
      expect(after.body.attention[0].enabled).toBe(false);
      expect(after.body.queue.pending).toBe(0); // disabling cancelled the queued retry
      await t.http().post(`/api/webhooks/${okId}/toggle`).set('Authorization', `Bearer ${admin}`).expect(200);
    });
  });

  describe('GET /api/events/delivery-summary', () => {
    it('counts per event the webhooks that got it and those it reached', async () => {
      const res = await get(`/api/events/delivery-summary?ids=${eventIds.join(',')}`, viewer).expect(200);
      const byId = new Map((res.body as Array<{ event_id: string }>).map((s) => [s.event_id, s]));
      expect(byId.get(eventIds[1])).toEqual({ event_id: eventIds[1], webhooks: 2, succeeded: 1, failed: 1, pending: 0, attempts: 2 });
      expect(byId.get(eventIds[0])).toMatchObject({ webhooks: 2, succeeded: 1, failed: 1, attempts: 5 });
      const unknown = '00000000-0000-4000-8000-000000000000';
      expect((await get(`/api/events/delivery-summary?ids=${unknown}`).expect(200)).body).toEqual([
        { event_id: unknown, webhooks: 0, succeeded: 0, failed: 0, pending: 0, attempts: 0 },
      ]);
    });

    it('refuses bad ids and more than 100', async () => {
      await get('/api/events/delivery-summary?ids=nope').expect(400);
      await get('/api/events/delivery-summary').expect(400);
      const many = Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`).join(',');
      expect((await get(`/api/events/delivery-summary?ids=${many}`).expect(400)).body.message).toContain('at most 100');
    });
  });

  describe('the console at /', () => {
    it('serves index.html uncached at / and at console paths, under the API’s CSP', async () => {
      const root = await t.http().get('/').set('Accept', 'text/html').expect(200);
      expect(root.headers['content-type']).toMatch(/text\/html/);
      expect(root.headers['cache-control']).toBe('no-cache');
      expect(root.text).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
      expect(root.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
      const api = await t.http().get('/api/health');
      expect(root.headers['content-security-policy']).toBe(api.headers['content-security-policy']);
      expect(root.headers['content-security-policy']).toContain("script-src 'self'");
      const deep = await t.http().get(`/webhooks/${okId}/logs/x`).set('Accept', 'text/html').expect(200);
      expect(deep.text).toBe(root.text);
    });

    it('serves the hashed assets with a year of immutable caching, and 404 for a missing one', async () => {
      const js = readdirSync(join(consoleDir(), 'assets')).find((f) => f.endsWith('.js'))!;
      const res = await t.http().get(`/assets/${js}`).expect(200);
      expect(res.headers['content-type']).toMatch(/javascript/);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      await t.http().get('/assets/index-missing.js').set('Accept', 'text/html').expect(404);
    });

    it('leaves /api, /docs and /metrics to the service', async () => {
      const missing = await t.http().get('/api/no-such-route').set('Accept', 'text/html').expect(404);
      expect(missing.body.code).toBeDefined();
      expect((await t.http().get('/docs/').set('Accept', 'text/html').expect(200)).text).toContain('swagger');
      expect((await t.http().get('/metrics').expect(200)).text).toContain('atlas_webhooks_attempts_total');
      // a client that does not ask for HTML gets no console page
      await t.http().get('/no-such-file.json').set('Accept', 'application/json').expect(404);
    });
  });
});
