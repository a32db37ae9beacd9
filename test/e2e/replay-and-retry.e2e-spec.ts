/**
 * Replay what an endpoint missed (`POST /api/webhooks/{id}/replay-missing`)
 * and the bulk retry of failed attempts across webhooks
 * (`POST /api/webhooks/logs/retry-failed`), with real receivers.
 */
import { CaptureServer, Captured, eventually } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';

interface Log {
  event_id: string;
  attempt: number;
  trigger: string;
  status: string;
}

describe('Replay missing and bulk retry (e2e)', () => {
  let t: TestApp;
  let receiver: CaptureServer;
  let token: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });
  const answers = new Map<string, number>();

  beforeAll(async () => {
    t = await createTestApp();
    receiver = await new CaptureServer((req) => ({ status: answers.get(req.path) ?? 200 })).start();
    token = await t.login();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function createWebhook(path: string, events: string[], extra: Record<string, unknown> = {}): Promise<string> {
    const res = await t
      .http()
      .post('/api/webhooks')
      .set(auth())
      .send({ url: `${receiver.url}${path}`, name: path, events, ...extra })
      .expect(201);
    return res.body.id;
  }

  async function emit(type: string, data: Record<string, unknown> = {}): Promise<string> {
    return (await t.http().post('/api/events').set(auth()).send({ type, data }).expect(202)).body.id;
  }

  /** Waits until every event is fanned out (so the log says what each webhook got). */
  async function fannedOut(ids: string[]): Promise<void> {
    await eventually(async () => {
      const views = await Promise.all(ids.map(async (id) => (await t.http().get(`/api/events/${id}`).set(auth()).expect(200)).body));
      return views.every(
        (v: { fanned_out_at?: string | null; event?: { fanned_out_at: string | null } }) => (v.fanned_out_at ?? v.event?.fanned_out_at) !== null,
      );
    });
  }

  async function logs(id: string): Promise<Log[]> {
    return (await t.http().get(`/api/webhooks/${id}/logs?limit=500`).set(auth()).expect(200)).body.items;
  }

  async function settled(id: string, n: number): Promise<Log[]> {
    return eventually(async () => {
      const items = await logs(id);
      return items.length === n && items.every((l) => l.status !== 'pending' && l.status !== 'sending') ? items : null;
    });
  }

  const replay = (id: string, body: Record<string, unknown>, status = 202) =>
    t.http().post(`/api/webhooks/${id}/replay-missing`).set(auth()).send(body).expect(status);
  const retryFailed = (body: Record<string, unknown>, status = 202) => t.http().post('/api/webhooks/logs/retry-failed').set(auth()).send(body).expect(status);
  const bodiesTo = (path: string) => receiver.requests.filter((r: Captured) => r.path === path).map((r) => JSON.parse(r.body) as { id: string; event: string });

  describe('replay-missing', () => {
    it('delivers exactly the events recorded while the webhook was disabled, once; a second call queues nothing', async () => {
      const since = new Date().toISOString();
      const id = await createWebhook('/was-off', ['service.*']);
      const before = await emit('service.started', { n: 0 });
      await settled(id, 1);
      await t.http().post(`/api/webhooks/${id}/toggle`).set(auth()).expect(200);
      const missed = [await emit('service.started', { n: 1 }), await emit('service.stopped', { n: 2 }), await emit('service.created', { n: 3 })];
      await fannedOut(missed);
      await t.http().post(`/api/webhooks/${id}/toggle`).set(auth()).expect(200);
      expect(bodiesTo('/was-off').map((b) => b.id)).toEqual([before]);

      const res = await replay(id, { since });
      expect(res.body).toMatchObject({ queued: 3, more: false, next_since: null, limit: 1000, since });
      const items = await settled(id, 4);
      expect(items.filter((l) => l.trigger === 'replay').map((l) => [l.event_id, l.attempt, l.status])).toEqual(
        expect.arrayContaining(missed.map((e) => [e, 1, 'succeeded'])),
      );
      expect((await replay(id, { since })).body.queued).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
      const got = bodiesTo('/was-off').map((b) => b.id);
      expect(got.sort()).toEqual([before, ...missed].sort());
    });

    it('gives a webhook that subscribed later the earlier events of its types (and only those), honouring its filter', async () => {
      const since = new Date().toISOString();
      const edge1 = [await emit('backup.created', { node: 'edge-1', n: 1 }), await emit('backup.deleted', { node: 'edge-1', n: 2 })];
      const edge2 = await emit('backup.restored', { node: 'edge-2' });
      const otherType = await emit('domain.created', { node: 'edge-1' });
      await fannedOut([...edge1, edge2, otherType]);

      const all = await createWebhook('/late', ['backup.*']);
      const filtered = await createWebhook('/late-filtered', ['backup.*'], { filter: { 'data.node': 'edge-1' } });
      expect((await replay(all, { since })).body.queued).toBe(3);
      expect((await replay(filtered, { since })).body.queued).toBe(2);
      await settled(all, 3);
      await settled(filtered, 2);
      expect(
        bodiesTo('/late')
          .map((b) => b.id)
          .sort(),
      ).toEqual([...edge1, edge2].sort());
      expect(
        bodiesTo('/late-filtered')
          .map((b) => b.id)
          .sort(),
      ).toEqual([...edge1].sort());
      expect((await replay(filtered, { since })).body.queued).toBe(0);
    });

    it('is bounded by limit and pages on with next_since; until bounds the range', async () => {
      const since = new Date().toISOString();
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push(await emit('user.expired', { i }));
      await fannedOut(ids);
      const id = await createWebhook('/paged', ['user.expired']);
      const first = (await replay(id, { since, limit: 3 })).body;
      expect(first).toMatchObject({ queued: 3, more: true, next_since: expect.any(String) });
      const second = (await replay(id, { since: first.next_since, limit: 3 })).body;
      expect(second).toMatchObject({ queued: 1, more: false });
      await settled(id, 4);
      expect(
        bodiesTo('/paged')
          .map((b) => b.id)
          .sort(),
      ).toEqual([...ids].sort());

      const bounded = await createWebhook('/bounded', ['user.expired']);
      const view = (await t.http().get(`/api/events/${ids[2]}`).set(auth()).expect(200)).body;
      const until = view.created_at ?? view.event.created_at;
      expect((await replay(bounded, { since, until })).body.queued).toBe(2);
    });

    it('answers 400 for bad ranges, 404 for an unknown webhook, 409 when disabled, 403 for viewers', async () => {
      const id = await createWebhook('/bad-range', ['system.*']);
      const day = 86_400_000;
      const now = Date.now();
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{}, /since must be an ISO 8601 date-time/],
        [{ since: 'yesterday' }, /since must be an ISO 8601 date-time/],
        [{ since: new Date(now - day).toISOString(), until: 'soon' }, /until must be an ISO 8601 date-time/],
        [{ since: new Date(now - day).toISOString(), until: new Date(now - 2 * day).toISOString() }, /since must be earlier than until/],
        [{ since: new Date(now - 40 * day).toISOString() }, /at most 31 days/],
        [{ since: new Date(now + day).toISOString() }, /since must not be in the future/],
        [{ since: new Date(now - day).toISOString(), limit: 0 }, /limit must be at least 1/],
        [{ since: new Date(now - day).toISOString(), limit: 10001 }, /limit must be at most 10000/],
      ];
      for (const [body, message] of cases) expect((await replay(id, body, 400)).body.message).toMatch(message);
      await replay('00000000-0000-4000-8000-000000000000', { since: new Date(now - day).toISOString() }, 404);
      await t.http().post(`/api/webhooks/${id}/toggle`).set(auth()).expect(200);
      expect((await replay(id, { since: new Date(now - day).toISOString() }, 409)).body.message).toMatch(/disabled/);

      await t.http().post('/api/users').set(auth()).send({ username: 'viewer2', password: 'viewer-pass-2', role: 'viewer' }).expect(201);
      const viewer = await t.login('viewer2', 'viewer-pass-2');
      await t
        .http()
        .post(`/api/webhooks/${id}/replay-missing`)
        .set({ Authorization: `Bearer ${viewer}` })
        .send({ since: new Date(now - day).toISOString() })
        .expect(403);
      await t
        .http()
        .post('/api/webhooks/logs/retry-failed')
        .set({ Authorization: `Bearer ${viewer}` })
        .send({ since: new Date(now - day).toISOString() })
        .expect(403);
    });
  });

  describe('bulk retry of failed attempts', () => {
    it('after an outage (500, then 200) delivers each failed event once per webhook; a second call queues nothing', async () => {
      const since = new Date().toISOString();
      const a = await createWebhook('/outage-a', ['domain.cert_issued', 'domain.cert_renewed'], { retry_enabled: false });
      const b = await createWebhook('/outage-b', ['domain.cert_issued'], { retry_enabled: false });
      const fine = await createWebhook('/no-outage', ['domain.cert_issued'], { retry_enabled: false });
      answers.set('/outage-a', 500);
      answers.set('/outage-b', 500);
      const issued = [await emit('domain.cert_issued', { d: 1 }), await emit('domain.cert_issued', { d: 2 })];
      const renewed = await emit('domain.cert_renewed', { d: 3 });
      await settled(a, 3);
      await settled(b, 2);
      await settled(fine, 2);

      answers.delete('/outage-a');
      answers.delete('/outage-b');
      // one type first
      expect((await retryFailed({ since, event_type: 'domain.cert_renewed' })).body).toMatchObject({ queued: 1, more: false });
      expect((await retryFailed({ since })).body).toMatchObject({ queued: 4, more: false });
      expect((await retryFailed({ since })).body.queued).toBe(0);
      const logsA = await settled(a, 6);
      await settled(b, 4);
      expect(logsA.filter((l) => l.trigger === 'retry').map((l) => [l.attempt, l.status])).toEqual([
        [2, 'succeeded'],
        [2, 'succeeded'],
        [2, 'succeeded'],
      ]);
      // nothing is retried once it succeeded
      expect((await retryFailed({ since })).body.queued).toBe(0);
      const successesA = bodiesTo('/outage-a').slice(3);
      expect(successesA.map((x) => x.id).sort()).toEqual([...issued, renewed].sort());
      expect(
        bodiesTo('/outage-b')
          .slice(2)
          .map((x) => x.id)
          .sort(),
      ).toEqual([...issued].sort());
      expect(bodiesTo('/no-outage')).toHaveLength(2);
    });

    it('answers 400 for bad ranges and an unknown event type', async () => {
      const day = 86_400_000;
      const now = Date.now();
      expect((await retryFailed({ since: 'x' }, 400)).body.message).toMatch(/since must be an ISO 8601 date-time/);
      expect((await retryFailed({ since: new Date(now - day).toISOString(), until: new Date(now - 2 * day).toISOString() }, 400)).body.message).toMatch(
        /since must be earlier than until/,
      );
      expect((await retryFailed({ since: new Date(now - 32 * day).toISOString() }, 400)).body.message).toMatch(/at most 31 days/);
      expect((await retryFailed({ since: new Date(now - day).toISOString(), event_type: 'nope' }, 400)).body.message).toMatch(/unknown "nope"/);
    });
  });

  it('Swagger lists both routes', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/webhooks/{id}/replay-missing']?.post).toBeDefined();
    expect(doc.paths['/api/webhooks/logs/retry-failed']?.post).toBeDefined();
  });
});
