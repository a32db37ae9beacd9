import { CaptureServer, eventually } from '../utils/capture-server';
import { queuedAttemptCount } from '../utils/delivery-db';
import { createTestApp, TestApp } from '../utils/test-app';

describe('Retries (e2e)', () => {
  let t: TestApp;
  let receiver: CaptureServer;
  let token: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await createTestApp({ WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,300ms' });
    receiver = await new CaptureServer().start();
    token = await t.login();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function createWebhook(path: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await t
      .http()
      .post('/api/webhooks')
      .set(auth())
      .send({ url: `${receiver.url}${path}`, name: path, events: ['backup.created'], ...extra })
      .expect(201);
    return res.body.id;
  }

  async function finishedLogs(id: string, n: number) {
    return eventually(async () => {
      const r = await t.http().get(`/api/webhooks/${id}/logs?limit=50`).set(auth()).expect(200);
      const done = r.body.items.filter((i: { status: string }) => i.status !== 'pending' && i.status !== 'sending');
      return done.length >= n && r.body.items.length === done.length ? r.body.items : null;
    });
  }

  it('fails twice, then succeeds: three attempts logged, and the stats agree', async () => {
    const id = await createWebhook('/flaky');
    let calls = 0;
    receiver.respondWith((req) => (req.path === '/flaky' && ++calls <= 2 ? { status: 500, body: 'not yet' } : { status: 200, body: 'ok' }));
    const emitted = await t
      .http()
      .post('/api/events')
      .set(auth())
      .send({ type: 'backup.created', data: { backup: 'nightly' } })
      .expect(202);

    const items = await finishedLogs(id, 3);
    expect(items.map((i: { attempt: number; status: string }) => [i.attempt, i.status])).toEqual([
      [3, 'succeeded'],
      [2, 'failed'],
      [1, 'failed'],
    ]);
    expect(items[1].next_retry_at).toEqual(expect.any(String));
    expect(items[2].error).toBe('HTTP 500 Internal Server Error');

    const deliveries = receiver.requests.filter((r) => r.path === '/flaky');
    expect(deliveries).toHaveLength(3);
    // the idempotency key is stable across retries; the delivery id and attempt are not
    expect(new Set(deliveries.map((d) => d.headers['webhook-id']))).toEqual(new Set([emitted.body.id]));
    expect(new Set(deliveries.map((d) => d.headers['x-atlas-delivery'])).size).toBe(3);
    expect(deliveries.map((d) => d.headers['x-atlas-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(deliveries.map((d) => d.body)).size).toBe(1);
    // retries keep to the schedule (300 ms ± 20%)
    expect(deliveries[1].receivedAt - deliveries[0].receivedAt).toBeGreaterThanOrEqual(230);

    const stats = await t.http().get(`/api/webhooks/${id}/stats`).set(auth()).expect(200);
    expect(stats.body).toMatchObject({
      total_attempts: 3,
      succeeded: 1,
      failed: 2,
      success_rate: 0.3333,
      events_delivered: 1,
      events_pending_retry: 0,
      consecutive_failures: 0,
    });
    const hook = await t.http().get(`/api/webhooks/${id}`).set(auth()).expect(200);
    expect(hook.body.last_success_at).toEqual(expect.any(String));
    expect(hook.body.last_failure_at).toEqual(expect.any(String));
  });

  it('sends a retry to the webhook as it is when the retry is claimed, not as an earlier claim saw it', async () => {
    const id = await createWebhook('/moving-old');
    let oldCalls = 0;
    receiver.respondWith((req) => {
      if (req.path === '/moving-old') return ++oldCalls === 2 ? { status: 500, body: 'slow no', delayMs: 1500 } : { status: 500, body: 'no' };
      return { status: 200, body: 'ok' };
    });
    await t
      .http()
      .post('/api/events')
      .set(auth())
      .send({ type: 'backup.created', data: { backup: 'moving' } })
      .expect(202);
    // attempt 2 is a retry, so a claim loaded the webhook for it; while it is in flight, the webhook moves
    await eventually(() => receiver.requests.filter((r) => r.path === '/moving-old').length >= 2 || null);
    await t
      .http()
      .put(`/api/webhooks/${id}`)
      .set(auth())
      .send({ url: `${receiver.url}/moving-new`, headers: { 'X-Moved': 'yes' } })
      .expect(200);
    const items = await finishedLogs(id, 3);
    expect(items.map((i: { attempt: number; status: string }) => [i.attempt, i.status])).toEqual([
      [3, 'succeeded'],
      [2, 'failed'],
      [1, 'failed'],
    ]);
    expect(receiver.requests.filter((r) => r.path === '/moving-old')).toHaveLength(2);
    const moved = receiver.requests.filter((r) => r.path === '/moving-new');
    expect(moved).toHaveLength(1);
    expect(moved[0].headers['x-moved']).toBe('yes');
    expect(moved[0].headers['x-atlas-attempt']).toBe('3');
  });

  it('gives up after the last attempt of the schedule', async () => {
    const id = await createWebhook('/down');
    receiver.respondWith((req) => (req.path === '/down' ? { status: 503, body: 'down' } : { status: 200 }));
    await t.http().post('/api/events').set(auth()).send({ type: 'backup.created', data: {} }).expect(202);
    const items = await finishedLogs(id, 4);
    expect(await queuedAttemptCount(t.databaseUrl, id)).toBe(0); // no fifth attempt scheduled
    const again = await t.http().get(`/api/webhooks/${id}/logs`).set(auth()).expect(200);
    expect(again.body.total).toBe(4);
    expect(items.every((i: { status: string }) => i.status === 'failed')).toBe(true);
    expect(items[0]).toMatchObject({ attempt: 4, next_retry_at: null });
    const hook = await t.http().get(`/api/webhooks/${id}`).set(auth()).expect(200);
    expect(hook.body).toMatchObject({ consecutive_failures: 4, last_error: 'HTTP 503 Service Unavailable' });
  });

  it('makes one attempt only without retry_enabled', async () => {
    const id = await createWebhook('/once', { retry_enabled: false });
    receiver.respondWith((req) => (req.path === '/once' ? { status: 500 } : { status: 200 }));
    await t.http().post('/api/events').set(auth()).send({ type: 'backup.created', data: {} }).expect(202);
    await finishedLogs(id, 1);
    expect(await queuedAttemptCount(t.databaseUrl, id)).toBe(0); // no retry scheduled
    const logs = await t.http().get(`/api/webhooks/${id}/logs`).set(auth()).expect(200);
    expect(logs.body.total).toBe(1);
    expect(logs.body.items[0]).toMatchObject({ attempt: 1, status: 'failed', next_retry_at: null });
  });

  it('records a refused connection and a timeout with a clear cause', async () => {
    const closed = await new CaptureServer().start();
    const deadUrl = closed.url;
    await closed.close();
    const dead = await t
      .http()
      .post('/api/webhooks')
      .set(auth())
      .send({ url: deadUrl, name: 'dead', events: ['system.error'], retry_enabled: false })
      .expect(201);
    const slow = await t
      .http()
      .post('/api/webhooks')
      .set(auth())
      .send({ url: `${receiver.url}/slow`, name: 'slow', events: ['system.error'], retry_enabled: false, timeout_ms: 1000 })
      .expect(201);
    receiver.respondWith((req) => (req.path === '/slow' ? 'hang' : { status: 200 }));
    const deadTest = await t.http().post(`/api/webhooks/${dead.body.id}/test`).set(auth()).expect(200);
    expect(deadTest.body).toMatchObject({ success: false, status_code: null });
    expect(deadTest.body.error).toMatch(/connection refused/);
    const slowTest = await t.http().post(`/api/webhooks/${slow.body.id}/test`).set(auth()).expect(200);
    expect(slowTest.body.success).toBe(false);
    expect(slowTest.body.error).toMatch(/timed out after 1000 ms/);
    expect(slowTest.body.duration_ms).toBeGreaterThanOrEqual(900);
  });

  it('does not follow redirects', async () => {
    const res = await t
      .http()
      .post('/api/webhooks')
      .set(auth())
      .send({ url: `${receiver.url}/moved`, name: 'moved', events: ['system.error'] })
      .expect(201);
    receiver.respondWith((req) => (req.path === '/moved' ? { status: 302, headers: { Location: `${receiver.url}/elsewhere` } } : { status: 200 }));
    const test = await t.http().post(`/api/webhooks/${res.body.id}/test`).set(auth()).expect(200);
    expect(test.body).toMatchObject({ success: false, status_code: 302 });
    expect(test.body.error).toBe(`HTTP 302 Found: redirect to ${receiver.url} not followed`);
    expect(receiver.requests.some((r) => r.path === '/elsewhere')).toBe(false);
  });
});
