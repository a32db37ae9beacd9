/**
 * The operators' tools: redeliver one attempt's event, recover everything a
 * webhook missed since a time, rotate the signing secret with a grace period.
 * Admins only.
 */
import { createHmac } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { CaptureServer, Captured, eventually } from '../utils/capture-server';
import { queuedAttemptCount } from '../utils/delivery-db';
import { createTestApp, TestApp } from '../utils/test-app';

interface Log {
  id: string;
  event_id: string;
  attempt: number;
  trigger: string;
  status: string;
  success: boolean | null;
  next_retry_at: string | null;
  created_at: string;
}

describe("Operators' tools (e2e)", () => {
  let t: TestApp;
  let receiver: CaptureServer;
  let token: string;
  let viewerToken: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    // retries are on and the schedule has room: whatever is not retried below is so by design
    t = await createTestApp({ WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,300ms' });
    receiver = await new CaptureServer().start();
    token = await t.login();
    await t.http().post('/api/users').set(auth()).send({ username: 'watcher', password: 'watcher-pass-1', role: 'viewer' }).expect(201);
    viewerToken = await t.login('watcher', 'watcher-pass-1');
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function createWebhook(path: string, events: string[], extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
    const res = await t
      .http()
      .post('/api/webhooks')
      .set(auth())
      .send({ url: `${receiver.url}${path}`, name: path, events, ...extra })
      .expect(201);
    return { id: res.body.id, secret: res.body.secret };
  }

  async function emit(type: string, data: Record<string, unknown> = {}): Promise<string> {
    return (await t.http().post('/api/events').set(auth()).send({ type, data }).expect(202)).body.id;
  }

  async function logs(id: string): Promise<Log[]> {
    return (await t.http().get(`/api/webhooks/${id}/logs?limit=500`).set(auth()).expect(200)).body.items;
  }

  /** Waits until the webhook has `n` attempts, none queued or in flight. */
  async function settled(id: string, n: number): Promise<Log[]> {
    return eventually(async () => {
      const items = await logs(id);
      return items.length === n && items.every((l) => l.status !== 'pending' && l.status !== 'sending') ? items : null;
    });
  }

  const requestsTo = (path: string): Captured[] => receiver.requests.filter((r) => r.path === path);

  describe('redeliver', () => {
    it('sends the event again as one new attempt, same webhook-id and body, and does not retry it', async () => {
      let answer = 200;
      receiver.respondWith((req) => (req.path === '/redeliver' ? { status: answer } : { status: 200 }));
      const { id } = await createWebhook('/redeliver', ['service.created']);
      const eventId = await emit('service.created', { service: 'db' });
      const [first] = await settled(id, 1);
      expect(first).toMatchObject({ attempt: 1, trigger: 'event', status: 'succeeded' });

      // the receiver lost it and is failing now: the redelivery fails and stays a single attempt
      answer = 500;
      const res = await t.http().post(`/api/webhooks/${id}/logs/${first.id}/redeliver`).set(auth()).expect(202);
      expect(res.body).toEqual({ log_id: expect.any(String), attempt: 2, status: 'sending' });
      const items = await settled(id, 2);
      expect(await queuedAttemptCount(t.databaseUrl, id)).toBe(0); // the failed redelivery scheduled no retry
      expect(await logs(id)).toHaveLength(2);
      expect(items[0]).toMatchObject({ id: res.body.log_id, event_id: eventId, attempt: 2, trigger: 'redeliver', status: 'failed', next_retry_at: null });

      const [original, again] = requestsTo('/redeliver');
      expect(requestsTo('/redeliver')).toHaveLength(2);
      expect(again.headers['webhook-id']).toBe(eventId);
      expect(again.headers['webhook-id']).toBe(original.headers['webhook-id']);
      expect(again.body).toBe(original.body);
      expect(again.headers['x-atlas-attempt']).toBe('2');
      expect(again.headers['x-atlas-delivery']).toBe(res.body.log_id);

      // redelivering from any attempt of the event numbers the new one after the highest
      answer = 200;
      const third = await t.http().post(`/api/webhooks/${id}/logs/${first.id}/redeliver`).set(auth()).expect(202);
      expect(third.body.attempt).toBe(3);
      const done = await settled(id, 3);
      expect(done[0]).toMatchObject({ attempt: 3, trigger: 'redeliver', status: 'succeeded' });
    });

    it('404 for an unknown attempt or one of another webhook', async () => {
      const a = await createWebhook('/redeliver-a', ['service.deleted']);
      const b = await createWebhook('/redeliver-b', ['service.deleted']);
      await emit('service.deleted');
      const [logA] = await settled(a.id, 1);
      await settled(b.id, 1);
      const unknown = await t.http().post(`/api/webhooks/${a.id}/logs/00000000-0000-4000-8000-000000000000/redeliver`).set(auth()).expect(404);
      expect(unknown.body).toMatchObject({ code: 'LOG_NOT_FOUND', message: expect.stringMatching(/No attempt/) });
      const other = await t.http().post(`/api/webhooks/${b.id}/logs/${logA.id}/redeliver`).set(auth()).expect(404);
      expect(other.body.code).toBe('LOG_NOT_FOUND');
      const noHook = await t.http().post(`/api/webhooks/00000000-0000-4000-8000-000000000000/logs/${logA.id}/redeliver`).set(auth()).expect(404);
      expect(noHook.body.code).toBe('WEBHOOK_NOT_FOUND');
      expect(await logs(a.id)).toHaveLength(1);
      expect(await logs(b.id)).toHaveLength(1);
    });
  });

  describe('recover', () => {
    it('queues one new attempt for every event since `since` that never succeeded, and they arrive', async () => {
      let healthy = false;
      // the event data says whether the receiver takes it (while unhealthy)
      receiver.respondWith((req) => {
        if (req.path !== '/recover') return { status: 200 };
        return healthy || (JSON.parse(req.body) as { data: { ok: boolean } }).data.ok ? { status: 200 } : { status: 503 };
      });
      const { id } = await createWebhook('/recover', ['domain.cert_issued'], { retry_enabled: false });
      const earlier = await emit('domain.cert_issued', { ok: false, n: 'before since' });
      const [earlierAttempt] = await settled(id, 1);
      // just after the earlier attempt (recover looks at attempts' created_at; the API shows milliseconds, PostgreSQL keeps microseconds: + 1 ms)
      const since = new Date(Date.parse(earlierAttempt.created_at) + 1).toISOString();
      const failed: string[] = [];
      const succeeded: string[] = [];
      for (let i = 0; i < 6; i++) {
        const ok = i % 2 === 0;
        (ok ? succeeded : failed).push(await emit('domain.cert_issued', { ok, n: i }));
      }
      await settled(id, 7);

      healthy = true;
      const res = await t.http().post(`/api/webhooks/${id}/recover`).set(auth()).send({ since }).expect(202);
      expect(res.body).toEqual({ queued: 3, limit: 10000, since });
      // right after: the recovered ones are queued or delivered, the rest delivered: nothing to add
      const again = await t.http().post(`/api/webhooks/${id}/recover`).set(auth()).send({ since }).expect(202);
      expect(again.body.queued).toBe(0);

      const items = await settled(id, 10);
      const recovered = items.filter((l) => l.trigger === 'recover');
      expect(recovered).toHaveLength(3);
      expect(new Set(recovered.map((l) => l.event_id))).toEqual(new Set(failed));
      expect(recovered.every((l) => l.attempt === 2 && l.status === 'succeeded')).toBe(true);
      const arrived = requestsTo('/recover').slice(7);
      expect(new Set(arrived.map((r) => r.headers['webhook-id']))).toEqual(new Set(failed));
      // the event before `since` and the delivered ones were not sent again
      expect(requestsTo('/recover').filter((r) => r.headers['webhook-id'] === earlier)).toHaveLength(1);
      for (const e of succeeded) expect(requestsTo('/recover').filter((r) => r.headers['webhook-id'] === e)).toHaveLength(1);

      const third = await t.http().post(`/api/webhooks/${id}/recover`).set(auth()).send({ since }).expect(202);
      expect(third.body.queued).toBe(0);
    });

    it.each([
      ['in the future', { since: new Date(Date.now() + 3_600_000).toISOString() }, /since must not be in the future/],
      ['malformed', { since: 'yesterday' }, /since must be an ISO 8601 date-time/],
      ['an impossible date', { since: '2026-02-30T00:00:00Z' }, /since must be an ISO 8601 date-time/],
      ['missing', {}, /since must be an ISO 8601 date-time/],
      ['a number', { since: 1700000000 }, /since must be an ISO 8601 date-time/],
    ])('400 when since is %s', async (_name, body, message) => {
      const { id } = await createWebhook('/recover-bad', ['domain.deleted']);
      const res = await t.http().post(`/api/webhooks/${id}/recover`).set(auth()).send(body).expect(400);
      expect(res.body.message).toMatch(message);
    });
  });

  describe('rotate-secret', () => {
    it('signs with both secrets for 24 h: standardwebhooks verifies with the old and the new one', async () => {
      const { id, secret: oldSecret } = await createWebhook('/rotate', ['backup.restored']);
      const res = await t.http().post(`/api/webhooks/${id}/rotate-secret`).set(auth()).expect(200);
      const newSecret: string = res.body.secret;
      expect(newSecret).toMatch(/^whsec_/);
      expect(newSecret).not.toBe(oldSecret);
      const expires = new Date(res.body.previous_secret_expires_at).getTime();
      expect(Math.abs(expires - (Date.now() + 24 * 3_600_000))).toBeLessThan(60_000);
      const shown = await t.http().get(`/api/webhooks/${id}/secret`).set(auth()).expect(200);
      expect(shown.body).toEqual({ secret: newSecret, previous_secret: oldSecret, previous_secret_expires_at: res.body.previous_secret_expires_at });

      const eventId = await emit('backup.restored', { backup: 'b-1' });
      await receiver.waitFor(1);
      const delivery = await eventually(() => requestsTo('/rotate').find((r) => r.headers['webhook-id'] === eventId));
      const headers = {
        'webhook-id': String(delivery.headers['webhook-id']),
        'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
        'webhook-signature': String(delivery.headers['webhook-signature']),
      };
      expect(headers['webhook-signature'].split(' ').map((s) => s.slice(0, 3))).toEqual(['v1,', 'v1,']);
      expect(new StandardWebhook(oldSecret).verify(delivery.body, headers)).toEqual(JSON.parse(delivery.body));
      expect(new StandardWebhook(newSecret).verify(delivery.body, headers)).toEqual(JSON.parse(delivery.body));
      expect(() => new StandardWebhook('whsec_' + Buffer.alloc(32, 9).toString('base64')).verify(delivery.body, headers)).toThrow();
      // the ATLAS signature uses the new secret only
      expect(delivery.headers['x-atlas-signature']).toBe(createHmac('sha256', newSecret).update(delivery.body).digest('hex'));
      expect(delivery.headers['x-atlas-signature']).not.toBe(createHmac('sha256', oldSecret).update(delivery.body).digest('hex'));
    });
  });

  it('viewers get 403 from redeliver, recover and rotate-secret, and nothing changes', async () => {
    const { id, secret } = await createWebhook('/viewer', ['system.resource_alert']);
    await emit('system.resource_alert');
    const [log] = await settled(id, 1);
    const viewer = { Authorization: `Bearer ${viewerToken}` };
    const calls = [
      t.http().post(`/api/webhooks/${id}/logs/${log.id}/redeliver`).set(viewer),
      t
        .http()
        .post(`/api/webhooks/${id}/recover`)
        .set(viewer)
        .send({ since: new Date(Date.now() - 3_600_000).toISOString() }),
      t.http().post(`/api/webhooks/${id}/rotate-secret`).set(viewer),
    ];
    for (const call of calls) {
      const res = await call.expect(403);
      expect(res.body).toMatchObject({ status_code: 403, message: expect.any(String) });
    }
    expect(await queuedAttemptCount(t.databaseUrl, id)).toBe(0); // no refused call queued an attempt
    expect(await logs(id)).toHaveLength(1);
    const shown = await t.http().get(`/api/webhooks/${id}/secret`).set(auth()).expect(200);
    expect(shown.body).toMatchObject({ secret, previous_secret: null });
  });
});
