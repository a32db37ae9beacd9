/**
 * Events about delivery itself: `webhook.endpoint_failing` after
 * WEBHOOK_FAILING_AFTER_FAILURES failures in a row, `webhook.attempts_exhausted`
 * when an event's retries run out, `webhook.endpoint_recovered` at the first
 * success after that, `webhook.endpoint_disabled` when the service disables
 * a webhook; delivered and signed like any event to the webhooks subscribed
 * to `webhook.*` (not `*`), never to the webhook they are about, and never
 * feeding themselves.
 */
import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import { CaptureServer, Captured, eventually } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';

interface Delivery {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

describe('Operational events (e2e)', () => {
  let t: TestApp;
  let receiver: CaptureServer;
  let token: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });
  const answers = new Map<string, number>();

  beforeAll(async () => {
    // three attempts per event (two retries); failing after two failures in a row
    t = await createTestApp({ WEBHOOK_RETRY_SCHEDULE: '200ms,200ms', WEBHOOK_FAILING_AFTER_FAILURES: '2' });
    receiver = await new CaptureServer((req) => ({ status: answers.get(req.path) ?? 200 })).start();
    token = await t.login();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function createWebhook(path: string, events: string[]): Promise<{ id: string; secret: string }> {
    const res = await t
      .http()
      .post('/api/webhooks')
      .set(auth())
      .send({ url: `${receiver.url}${path}`, name: `hook ${path}`, events })
      .expect(201);
    return { id: res.body.id, secret: res.body.secret };
  }

  async function emit(type: string, data: Record<string, unknown> = {}): Promise<string> {
    return (await t.http().post('/api/events').set(auth()).send({ type, data }).expect(202)).body.id;
  }

  const to = (path: string): Captured[] => receiver.requests.filter((r) => r.path === path);
  const deliveries = (path: string): Delivery[] => to(path).map((r) => JSON.parse(r.body) as Delivery);
  const opsTo = (path: string, type?: string) => deliveries(path).filter((d) => d.event.startsWith('webhook.') && (!type || d.event === type));

  async function operationalEventsRecorded(): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
    const res = await t.http().get('/api/events?limit=200').set(auth()).expect(200);
    return res.body.items.filter((e: { type: string }) => e.type.startsWith('webhook.'));
  }

  it('cannot be emitted through POST /api/events (400 naming the type); webhook.* can be subscribed to', async () => {
    for (const type of ['webhook.endpoint_failing', 'webhook.endpoint_disabled', 'webhook.endpoint_recovered', 'webhook.attempts_exhausted']) {
      const res = await t.http().post('/api/events').set(auth()).send({ type, data: {} }).expect(400);
      expect(res.body.message).toContain(`${type} is an operational event`);
    }
    const types = (await t.http().get('/api/events/types').set(auth()).expect(200)).body as Array<{ type: string; category: string }>;
    expect(types.filter((e) => e.category === 'webhook').map((e) => e.type)).toEqual(
      expect.arrayContaining(['webhook.endpoint_failing', 'webhook.endpoint_disabled', 'webhook.endpoint_recovered', 'webhook.attempts_exhausted']),
    );
  });

  it('reports failing, exhausted, recovered and disabled to the ops endpoint, signed; never to the webhook concerned nor to "*"', async () => {
    const ops = await createWebhook('/ops', ['webhook.*']);
    const everything = await createWebhook('/everything', ['*']);
    // the failing webhook subscribes to the operational events too: it must still never get its own
    const failing = await createWebhook('/failing', ['service.*', 'webhook.*']);
    answers.set('/failing', 500);

    const first = await emit('service.started', { service: 'nginx' });
    await eventually(() => opsTo('/ops', 'webhook.attempts_exhausted').length === 1);
    const [failingEvent] = opsTo('/ops', 'webhook.endpoint_failing');
    expect(failingEvent.data).toMatchObject({
      webhook_id: failing.id,
      webhook_name: 'hook /failing',
      consecutive_failures: 2,
      last_error: 'HTTP 500 Internal Server Error',
      status_code: 500,
      reason: expect.stringContaining('2 failed attempts in a row'),
    });
    const [exhausted] = opsTo('/ops', 'webhook.attempts_exhausted');
    expect(exhausted.data).toMatchObject({
      webhook_id: failing.id,
      webhook_name: 'hook /failing',
      event_id: first,
      event_type: 'service.started',
      attempts: 3,
      status_code: 500,
      last_error: 'HTTP 500 Internal Server Error',
    });
    // failing comes first, raised once (the third failure is no new state)
    expect(opsTo('/ops').map((d) => d.event)).toEqual(['webhook.endpoint_failing', 'webhook.attempts_exhausted']);

    // signed like any delivery, with the ops webhook's secret, over the exact body
    for (const r of to('/ops')) {
      expect(r.headers['x-atlas-signature']).toBe(createHmac('sha256', ops.secret).update(r.body, 'utf8').digest('hex'));
      expect(r.headers['x-atlas-event']).toMatch(/^webhook\./);
    }

    // it recovers: the first success after failing is reported once
    answers.set('/failing', 200);
    await emit('service.stopped', { service: 'nginx' });
    await eventually(() => opsTo('/ops', 'webhook.endpoint_recovered').length === 1);
    expect(opsTo('/ops', 'webhook.endpoint_recovered')[0].data).toMatchObject({ webhook_id: failing.id, failed_attempts: 3 });
    await emit('service.created', { service: 'nginx' });
    await eventually(() => deliveries('/failing').some((d) => d.event === 'service.created'));

    // the endpoint is gone: the service disables the webhook and says so
    answers.set('/failing', 410);
    await emit('service.deleted', { service: 'nginx' });
    await eventually(() => opsTo('/ops', 'webhook.endpoint_disabled').length === 1);
    expect(opsTo('/ops', 'webhook.endpoint_disabled')[0].data).toMatchObject({
      webhook_id: failing.id,
      webhook_name: 'hook /failing',
      reason: 'the endpoint answered 410 Gone',
    });
    const hook = (await t.http().get(`/api/webhooks/${failing.id}`).set(auth()).expect(200)).body;
    expect(hook.enabled).toBe(false);

    await eventually(() => opsTo('/ops', 'webhook.attempts_exhausted').length === 2);
    // the webhook concerned never got any of them, nor did the "*" subscriber
    expect(opsTo('/failing')).toEqual([]);
    expect(deliveries('/everything').length).toBeGreaterThanOrEqual(4);
    expect(opsTo('/everything')).toEqual([]);
    expect(everything.id).toBeDefined();
    answers.delete('/failing');
    await t.http().delete(`/api/webhooks/${ops.id}`).set(auth()).expect(204);
    await t.http().delete(`/api/webhooks/${everything.id}`).set(auth()).expect(204);
    await t.http().delete(`/api/webhooks/${failing.id}`).set(auth()).expect(204);
  });

  it('reports a webhook disabled for failing longer than WEBHOOK_DISABLE_AFTER_HOURS', async () => {
    const ops = await createWebhook('/ops-time', ['webhook.endpoint_disabled']);
    const old = await createWebhook('/long-failing', ['system.*']);
    answers.set('/long-failing', 503);
    const pg = new Client({ connectionString: t.databaseUrl });
    await pg.connect();
    try {
      // it has been failing for 121 hours (the default limit is 120)
      await pg.query(`UPDATE webhooks SET consecutive_failures = 30, failing_since = now() - interval '121 hours' WHERE id = $1`, [old.id]);
    } finally {
      await pg.end();
    }
    await emit('system.error', { message: 'disk full' });
    await eventually(() => opsTo('/ops-time').length === 1);
    expect(opsTo('/ops-time')[0]).toMatchObject({
      event: 'webhook.endpoint_disabled',
      data: {
        webhook_id: old.id,
        webhook_name: 'hook /long-failing',
        reason: expect.stringMatching(/^failing since .* \(more than 120 hours without a successful delivery\)$/),
        consecutive_failures: 31,
        last_error: 'HTTP 503 Service Unavailable',
        status_code: 503,
      },
    });
    expect((await t.http().get(`/api/webhooks/${old.id}`).set(auth()).expect(200)).body.enabled).toBe(false);
    answers.delete('/long-failing');
    await t.http().delete(`/api/webhooks/${ops.id}`).set(auth()).expect(204);
  });

  it('does not loop: failing ops endpoints get the news about others and raise none about themselves', async () => {
    const before = (await operationalEventsRecorded()).length;
    const opsA = await createWebhook('/ops-a', ['webhook.*']);
    const opsB = await createWebhook('/ops-b', ['webhook.*']);
    const broken = await createWebhook('/broken', ['backup.*']);
    for (const p of ['/ops-a', '/ops-b', '/broken']) answers.set(p, 500);

    await emit('backup.created', { backup: 'nightly' });
    // broken: failing + exhausted; each ops endpoint gets both, fails three times on each, and that is all
    await eventually(() => to('/ops-a').length === 6 && to('/ops-b').length === 6, 20000);
    const settle = async () => {
      const logs = await Promise.all(
        [opsA.id, opsB.id].map(async (id) => (await t.http().get(`/api/webhooks/${id}/logs?limit=100`).set(auth()).expect(200)).body.items),
      );
      return logs.every((items: Array<{ status: string }>) => items.length === 6 && items.every((i) => i.status === 'failed'));
    };
    await eventually(settle);
    await new Promise((r) => setTimeout(r, 1500));
    const recorded = await operationalEventsRecorded();
    expect(recorded.length - before).toBe(2);
    expect(
      recorded
        .slice(0, 2)
        .map((e) => [e.type, e.data.webhook_id])
        .sort(),
    ).toEqual(
      [
        ['webhook.attempts_exhausted', broken.id],
        ['webhook.endpoint_failing', broken.id],
      ].sort(),
    );
    expect(to('/ops-a').length).toBe(6);
    expect(to('/ops-b').length).toBe(6);
    // their failures on operational events are logged but are not a failure streak
    for (const id of [opsA.id, opsB.id]) {
      const hook = (await t.http().get(`/api/webhooks/${id}`).set(auth()).expect(200)).body;
      expect(hook).toMatchObject({ enabled: true, consecutive_failures: 0, last_error: 'HTTP 500 Internal Server Error' });
    }
  });
});
