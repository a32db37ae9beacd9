/**
 * The ATLAS deployment guide's walk-through (ATLAS-GUIDE.md), step by step,
 * against the real app with a real receiver on loopback in place of
 * webhook.site: log in, create, list, test, logs, recent logs, stats,
 * troubleshooting checks, toggle, delete.
 */
import { CaptureServer, eventually } from '../utils/capture-server';
import { attemptCountOfEvent, fannedOut } from '../utils/delivery-db';
import { createTestApp, TestApp } from '../utils/test-app';

describe('The ATLAS guide walk-through (e2e)', () => {
  let t: TestApp;
  let receiver: CaptureServer;
  let token: string;
  let webhookId: string;
  let secret: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await createTestApp();
    receiver = await new CaptureServer().start();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('1. logs in and gets a token', async () => {
    const res = await t.http().post('/api/auth/login').set('Content-Type', 'application/json').send('{"username":"admin","password":"admin123"}').expect(200);
    token = res.body.access_token;
    expect(token).toEqual(expect.any(String));
  });

  it('2. creates a webhook with the guide body', async () => {
    const res = await t
      .http()
      .post('/api/webhooks/')
      .set(auth())
      .send({ url: `${receiver.url}/YOUR-UNIQUE-URL`, name: '测试 Webhook', description: '这是测试', events: ['service.started', 'user.created'] })
      .expect(201);
    expect(res.body).toMatchObject({
      name: '测试 Webhook',
      description: '这是测试',
      events: ['service.started', 'user.created'],
      enabled: true,
      retry_enabled: true,
      last_error: null,
    });
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    webhookId = res.body.id;
    secret = res.body.secret;
  });

  it('3. lists webhooks, with the secret masked', async () => {
    const res = await t.http().get('/api/webhooks/').set(auth()).expect(200);
    const listed = res.body.items.find((w: { id: string }) => w.id === webhookId);
    expect(listed).toMatchObject({ id: webhookId, name: '测试 Webhook' });
    expect(listed.secret).not.toContain(secret.slice(6, 20));
  });

  it('4. tests the webhook: a signed webhook.test delivery arrives', async () => {
    const res = await t.http().post(`/api/webhooks/${webhookId}/test`).set(auth()).expect(200);
    expect(res.body).toMatchObject({ success: true, status_code: 200, error: null, log_id: expect.any(String) });
    expect(res.body.duration_ms).toEqual(expect.any(Number));
    expect(receiver.requests).toHaveLength(1);
    const [delivery] = receiver.requests;
    expect(delivery.path).toBe('/YOUR-UNIQUE-URL');
    expect(delivery.headers['x-atlas-event']).toBe('webhook.test');
    expect(delivery.headers['content-type']).toMatch(/^application\/json/);
    expect(delivery.headers['x-atlas-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(delivery.body)).toMatchObject({ event: 'webhook.test', data: { webhook_id: webhookId } });
  });

  it('delivers a matching event raised through POST /api/events, and not a non-matching one', async () => {
    const unmatched = await t
      .http()
      .post('/api/events')
      .set(auth())
      .send({ type: 'system.error', data: { message: 'not subscribed' } })
      .expect(202);
    const emitted = await t
      .http()
      .post('/api/events')
      .set(auth())
      .send({ type: 'service.started', data: { service: 'nginx', node: 'edge-1' } })
      .expect(202);
    await receiver.waitFor(2);
    // matched at fan-out or never: once fanned out with no attempt, no delivery can follow
    await fannedOut(t.databaseUrl, unmatched.body.id);
    expect(await attemptCountOfEvent(t.databaseUrl, unmatched.body.id)).toBe(0);
    expect(receiver.requests).toHaveLength(2);
    const delivery = receiver.requests[1];
    expect(delivery.headers['x-atlas-event']).toBe('service.started');
    expect(delivery.headers['webhook-id']).toBe(emitted.body.id);
    expect(JSON.parse(delivery.body)).toEqual({
      id: emitted.body.id,
      event: 'service.started',
      timestamp: expect.any(String),
      data: { service: 'nginx', node: 'edge-1' },
    });
  });

  it('5. reads the call log (limit=50): every attempt with success', async () => {
    const res = await eventually(async () => {
      const r = await t.http().get(`/api/webhooks/${webhookId}/logs?limit=50`).set(auth()).expect(200);
      return r.body.items.every((i: { success: boolean | null }) => i.success !== null) && r.body.items.length === 2 ? r : null;
    });
    expect(res.body).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(res.body.items.map((i: { event_type: string }) => i.event_type)).toEqual(['service.started', 'webhook.test']);
    expect(res.body.items.every((i: { success: boolean }) => i.success === true)).toBe(true);
  });

  it('6. reads all logs of the last 24 hours', async () => {
    const res = await t.http().get('/api/webhooks/logs/recent?hours=24').set(auth()).expect(200);
    expect(res.body.items.length).toBeGreaterThanOrEqual(2);
    expect(res.body.items.every((i: { webhook_id: string }) => i.webhook_id === webhookId)).toBe(true);
  });

  it('7. reads statistics', async () => {
    const res = await t.http().get(`/api/webhooks/${webhookId}/stats`).set(auth()).expect(200);
    expect(res.body).toMatchObject({ total_attempts: 2, succeeded: 2, failed: 0, success_rate: 1, events_delivered: 2, consecutive_failures: 0 });
    expect(res.body.by_event_type).toEqual({ 'service.started': { total: 1, succeeded: 1, failed: 0 }, 'webhook.test': { total: 1, succeeded: 1, failed: 0 } });
    expect(res.body.last_success_at).toEqual(expect.any(String));
  });

  it('8. troubleshooting: .enabled, .events, the failed calls and .last_error', async () => {
    const one = await t.http().get(`/api/webhooks/${webhookId}`).set(auth()).expect(200);
    expect(one.body.enabled).toBe(true);
    expect(one.body.events).toEqual(['service.started', 'user.created']);
    expect(one.body.last_error).toBeNull();
    receiver.respondWith(() => ({ status: 500, body: 'boom' }));
    const res = await t.http().post(`/api/webhooks/${webhookId}/test`).set(auth()).expect(200);
    expect(res.body).toMatchObject({ success: false, status_code: 500, response_body: 'boom' });
    expect(res.body.error).toMatch(/HTTP 500/);
    const logs = await t.http().get(`/api/webhooks/${webhookId}/logs`).set(auth()).expect(200);
    const failed = logs.body.items.filter((i: { success: boolean }) => i.success === false);
    expect(failed).toHaveLength(1);
    const after = await eventually(async () => {
      const r = await t.http().get(`/api/webhooks/${webhookId}`).set(auth());
      return r.body.last_error ? r : null;
    });
    expect(after.body.last_error).toMatch(/HTTP 500/);
    receiver.respondWith(() => ({ status: 200, body: 'ok' }));
  });

  it('9. toggles the webhook off (no deliveries) and on again', async () => {
    const off = await t.http().post(`/api/webhooks/${webhookId}/toggle`).set(auth()).expect(200);
    expect(off.body.enabled).toBe(false);
    const before = receiver.requests.length;
    const whileOff = await t
      .http()
      .post('/api/events')
      .set(auth())
      .send({ type: 'user.created', data: { user: 'alice' } })
      .expect(202);
    await fannedOut(t.databaseUrl, whileOff.body.id);
    expect(await attemptCountOfEvent(t.databaseUrl, whileOff.body.id)).toBe(0);
    expect(receiver.requests.length).toBe(before);
    const on = await t.http().post(`/api/webhooks/${webhookId}/toggle`).set(auth()).expect(200);
    expect(on.body.enabled).toBe(true);
    await t
      .http()
      .post('/api/events')
      .set(auth())
      .send({ type: 'user.created', data: { user: 'bob' } })
      .expect(202);
    await receiver.waitFor(before + 1);
    expect(JSON.parse(receiver.requests[before].body).data).toEqual({ user: 'bob' });
  });

  it('10. deletes the webhook', async () => {
    await t.http().delete(`/api/webhooks/${webhookId}`).set(auth()).expect(204);
    await t.http().get(`/api/webhooks/${webhookId}`).set(auth()).expect(404);
    await t.http().get(`/api/webhooks/${webhookId}/logs`).set(auth()).expect(404);
  });
});
