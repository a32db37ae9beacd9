/**
 * How delivery copes with bad endpoints: a slow one does not hold up healthy
 * ones and never gets more than its in-flight share; 429/503 Retry-After is
 * honoured within the schedule's bounds; 410 Gone and days of failures disable
 * the webhook and cancel its queue; toggling it back on resumes delivery.
 */
import { createServer, Server } from 'node:http';
import { DataSource } from 'typeorm';
import { CaptureServer, eventually } from '../utils/capture-server';
import { attemptCountOfEvent, fannedOut, queuedAttemptCount } from '../utils/delivery-db';
import { createTestApp, TestApp } from '../utils/test-app';

/** A loopback receiver that never answers and counts the requests it holds open at once. */
class HangingServer {
  private server!: Server;
  port = 0;
  open = 0;
  maxOpen = 0;
  received = 0;
  closed = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.received++;
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      // the request is over when the client gives up and the connection closes
      res.on('close', () => {
        this.open--;
        this.closed++;
      });
      req.resume();
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Log {
  id: string;
  event_id: string;
  attempt: number;
  status: string;
  status_code: number | null;
  error: string | null;
  next_retry_at: string | null;
  finished_at: string | null;
}

describe('Slow, dead, throttling and gone endpoints (e2e)', () => {
  let t: TestApp;
  let receiver: CaptureServer;
  let token: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await createTestApp({
      WEBHOOK_MAX_IN_FLIGHT: '8',
      WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: '2',
      WEBHOOK_RETRY_SCHEDULE: '200ms,5s',
      WEBHOOK_DISABLE_AFTER_HOURS: '1',
      WEBHOOK_SHUTDOWN_GRACE_MS: '500ms',
    });
    receiver = await new CaptureServer().start();
    token = await t.login();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function createWebhook(url: string, events: string[], extra: Record<string, unknown> = {}): Promise<string> {
    const res = await t
      .http()
      .post('/api/webhooks')
      .set(auth())
      .send({ url, name: url.slice(-60), events, ...extra })
      .expect(201);
    return res.body.id;
  }

  async function emit(type: string, data: Record<string, unknown> = {}): Promise<string> {
    const res = await t.http().post('/api/events').set(auth()).send({ type, data }).expect(202);
    return res.body.id;
  }

  async function logs(id: string): Promise<Log[]> {
    const res = await t.http().get(`/api/webhooks/${id}/logs?limit=500`).set(auth()).expect(200);
    return res.body.items;
  }

  async function webhook(id: string) {
    return (await t.http().get(`/api/webhooks/${id}`).set(auth()).expect(200)).body;
  }

  const requestsTo = (path: string) => receiver.requests.filter((r) => r.path === path);

  it('a hanging endpoint does not delay a healthy one and never has more than 2 requests open', async () => {
    const slow = await new HangingServer().start();
    const closed = await new CaptureServer().start();
    const deadUrl = `${closed.url}/dead`;
    await closed.close();
    try {
      const slowId = await createWebhook(`${slow.url}/slow`, ['service.started'], { timeout_ms: 5000, retry_enabled: false });
      const deadId = await createWebhook(deadUrl, ['service.started'], { retry_enabled: false });
      await createWebhook(`${receiver.url}/healthy`, ['service.started'], { retry_enabled: false });

      const emittedAt = new Map<string, number>();
      for (let i = 0; i < 30; i++) {
        const before = Date.now();
        emittedAt.set(await emit('service.started', { n: i }), before);
      }
      await receiver.waitFor(30, 10_000);
      const healthy = requestsTo('/healthy');
      expect(healthy).toHaveLength(30);
      // every delivery to the healthy endpoint arrived within 3 s of its emit…
      const lags = healthy.map((r) => r.receivedAt - emittedAt.get(String(r.headers['webhook-id']))!);
      expect(Math.max(...lags)).toBeLessThan(3000);
      // …while the slow endpoint still holds its first two requests
      expect(slow.received).toBe(2);
      expect(slow.open).toBe(2);
      expect(slow.closed).toBe(0);

      // the dead endpoint's attempts all failed fast with a clear cause
      const dead = await eventually(async () => {
        const items = await logs(deadId);
        return items.length === 30 && items.every((l) => l.status === 'failed') ? items : null;
      }, 10_000);
      expect(dead.every((l) => /connection refused/.test(l.error ?? ''))).toBe(true);

      // after the 5 s timeout the next two go out, never more than two at a time
      await eventually(() => slow.received >= 4, 10_000);
      expect(slow.maxOpen).toBe(2);
      const slowLogs = await eventually(async () => {
        const items = await logs(slowId);
        const failed = items.filter((l) => l.status === 'failed');
        return failed.length >= 2 ? failed : null;
      }, 5000);
      expect(slowLogs[0].error).toBe(`timed out after 5000 ms waiting for 127.0.0.1:${slow.port}`);
      expect(slow.maxOpen).toBe(2);

      // stop the slow webhook's backlog (its attempts go with it)
      await t.http().delete(`/api/webhooks/${slowId}`).set(auth()).expect(204);
    } finally {
      await slow.close();
    }
  }, 60_000);

  it('429 with Retry-After: 2 delays the retry by 2 s instead of the 200 ms step', async () => {
    let calls = 0;
    receiver.respondWith((req) =>
      req.path === '/throttled' && ++calls === 1 ? { status: 429, headers: { 'Retry-After': '2' }, body: 'slow down' } : { status: 200 },
    );
    const id = await createWebhook(`${receiver.url}/throttled`, ['user.created']);
    await emit('user.created', { user: 'u1' });
    const items = await eventually(async () => {
      const l = await logs(id);
      return l.length === 2 && l[0].status === 'succeeded' ? l : null;
    }, 10_000);
    const [first, second] = requestsTo('/throttled');
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    const gap = second.receivedAt - first.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(1950);
    expect(gap).toBeLessThan(4000);
    expect(items[1]).toMatchObject({ attempt: 1, status: 'failed', status_code: 429, error: 'HTTP 429 Too Many Requests' });
    expect(new Date(items[1].next_retry_at!).getTime() - new Date(items[1].finished_at!).getTime()).toBe(2000);
  });

  it("503 with a Retry-After beyond the schedule is capped at the schedule's longest delay", async () => {
    receiver.respondWith((req) => (req.path === '/unavailable' ? { status: 503, headers: { 'Retry-After': '3600' } } : { status: 200 }));
    const id = await createWebhook(`${receiver.url}/unavailable`, ['user.deleted']);
    await emit('user.deleted', {});
    const items = await eventually(async () => {
      const l = await logs(id);
      return l.length === 2 && l[1].status === 'failed' ? l : null;
    });
    expect(items[0]).toMatchObject({ attempt: 2, status: 'pending' });
    const delay = new Date(items[1].next_retry_at!).getTime() - new Date(items[1].finished_at!).getTime();
    expect(delay).toBeGreaterThan(4000);
    expect(delay).toBeLessThanOrEqual(6000);
    await t.http().delete(`/api/webhooks/${id}`).set(auth()).expect(204);
  });

  it('410 Gone disables the webhook, is not retried, and cancels its queued attempts', async () => {
    receiver.respondWith((req) => (req.path === '/gone' ? { status: 410, body: 'gone', delayMs: 300 } : { status: 200 }));
    const id = await createWebhook(`${receiver.url}/gone`, ['domain.created']);
    for (let i = 0; i < 5; i++) await emit('domain.created', { n: i });

    const hook = await eventually(async () => {
      const w = await webhook(id);
      return w.enabled === false ? w : null;
    });
    expect(hook.disabled_reason).toMatch(/410/);
    const items = await eventually(async () => {
      const l = await logs(id);
      return l.length === 5 && l.every((i) => i.status === 'failed' || i.status === 'cancelled') ? l : null;
    });
    expect(await queuedAttemptCount(t.databaseUrl, id)).toBe(0); // nothing retried
    // two were in flight (the per-endpoint limit) and got 410; the other three were cancelled, nothing retried
    const failed = items.filter((l) => l.status === 'failed');
    const cancelled = items.filter((l) => l.status === 'cancelled');
    expect(failed).toHaveLength(2);
    expect(failed.every((l) => l.status_code === 410 && l.next_retry_at === null)).toBe(true);
    expect(cancelled).toHaveLength(3);
    expect(cancelled.every((l) => /disabled/.test(l.error ?? '') && /410/.test(l.error ?? ''))).toBe(true);
    expect(items.every((l) => l.attempt === 1)).toBe(true);
    expect(requestsTo('/gone')).toHaveLength(2);
    expect(await logs(id)).toHaveLength(5);
  });

  it('an endpoint failing for longer than WEBHOOK_DISABLE_AFTER_HOURS is disabled; toggling it on resumes delivery', async () => {
    let failing = true;
    receiver.respondWith((req) => (req.path === '/failing' ? (failing ? { status: 500, body: 'boom' } : { status: 200 }) : { status: 200 }));
    const id = await createWebhook(`${receiver.url}/failing`, ['backup.created']);

    // an earlier event: attempts 1 and 2 fail, attempt 3 waits 5 s
    const earlier = await emit('backup.created', { n: 'earlier' });
    await eventually(async () => {
      const l = await logs(id);
      const w = await webhook(id);
      return l.length === 3 && l[0].status === 'pending' && w.consecutive_failures === 2;
    });
    // it has been failing for two hours
    await t.app.get(DataSource).query(`UPDATE webhooks SET failing_since = now() - interval '2 hours' WHERE id = $1`, [id]);

    // one more failure
    const last = await emit('backup.created', { n: 'last' });
    const hook = await eventually(async () => {
      const w = await webhook(id);
      return w.enabled === false ? w : null;
    });
    expect(hook.disabled_reason).toMatch(/^failing since .* \(more than 1 hours without a successful delivery\)$/);
    expect(hook.consecutive_failures).toBe(3);

    const items = await eventually(async () => {
      const l = await logs(id);
      return l.length === 5 && !l.some((i) => i.status === 'pending' || i.status === 'sending') ? l : null;
    });
    const summary = items.map((l) => [l.event_id === earlier ? 'earlier' : l.event_id === last ? 'last' : '?', l.attempt, l.status]);
    expect(summary).toEqual(
      expect.arrayContaining([
        ['earlier', 1, 'failed'],
        ['earlier', 2, 'failed'],
        ['earlier', 3, 'cancelled'],
        ['last', 1, 'failed'],
        ['last', 2, 'cancelled'],
      ]),
    );
    expect(items.filter((l) => l.status === 'cancelled').every((l) => /webhook disabled \(failing since/.test(l.error ?? ''))).toBe(true);

    // disabled: a new event brings no attempt
    const before = requestsTo('/failing').length;
    const whileDisabled = await emit('backup.created', { n: 'while disabled' });
    await fannedOut(t.databaseUrl, whileDisabled);
    expect(await attemptCountOfEvent(t.databaseUrl, whileDisabled)).toBe(0);
    expect(await logs(id)).toHaveLength(5);
    expect(requestsTo('/failing')).toHaveLength(before);

    // toggled back on: the failure state is cleared and deliveries resume
    failing = false;
    const toggled = await t.http().post(`/api/webhooks/${id}/toggle`).set(auth()).expect(200);
    expect(toggled.body).toMatchObject({ enabled: true, consecutive_failures: 0, failing_since: null, disabled_reason: null });
    const resumed = await emit('backup.created', { n: 'after toggle' });
    const delivered = await eventually(async () => (await logs(id)).find((l) => l.event_id === resumed && l.status === 'succeeded'));
    expect(delivered.attempt).toBe(1);
    expect(requestsTo('/failing').at(-1)?.headers['webhook-id']).toBe(resumed);
  });
});
