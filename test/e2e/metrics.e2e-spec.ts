import { DataSource } from 'typeorm';
import { CaptureServer, eventually } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';

/** One sample of the Prometheus text format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({ name: m[1], labels, value: m[3] === 'Nan' || m[3] === 'NaN' ? NaN : Number(m[3]) });
  }
  return out;
}

/** The samples of one metric whose labels include `labels`. */
function samples(text: string, name: string, labels: Record<string, string> = {}): Sample[] {
  return parseSamples(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The single value of a metric (with those labels); undefined when absent. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples(text, name, labels);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value;
}

describe('Metrics (e2e)', () => {
  let worker: TestApp;
  let apiOnly: TestApp;
  let receiver: CaptureServer;
  let token: string;
  const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
  const SECRET = 'metrics-test-secret-do-not-leak-0001';
  const webhookIds: string[] = [];
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    receiver = await new CaptureServer((req) => (req.path.startsWith('/fail') ? { status: 500, body: 'broken' } : { status: 200, body: 'ok' })).start();
    // a retry an hour away: the failed delivery leaves one attempt pending, not due
    worker = await createTestApp({ WEBHOOK_RETRY_SCHEDULE: '1h' });
    token = await worker.login();
  });
  afterAll(async () => {
    await worker?.close();
    await apiOnly?.close();
    await receiver?.close();
  });

  async function createWebhook(t: TestApp, jwt: string, path: string, events: string[]): Promise<string> {
    const res = await t
      .http()
      .post('/api/webhooks')
      .set({ Authorization: `Bearer ${jwt}` })
      .send({ url: `${receiver.url}${path}?token=url-query-secret`, name: path, events, secret: SECRET })
      .expect(201);
    webhookIds.push(res.body.id);
    return res.body.id;
  }

  it('counts 2 successful and 1 failed delivery, their durations, and the queued retry', async () => {
    await createWebhook(worker, token, '/ok', ['backup.created']);
    const failing = await createWebhook(worker, token, '/fail', ['system.error']);
    await worker
      .http()
      .post('/api/events')
      .set(auth())
      .send({ type: 'backup.created', data: { n: 1 } })
      .expect(202);
    await worker
      .http()
      .post('/api/events')
      .set(auth())
      .send({ type: 'backup.created', data: { n: 2 } })
      .expect(202);
    await worker
      .http()
      .post('/api/events')
      .set(auth())
      .send({ type: 'system.error', data: { n: 3 } })
      .expect(202);
    await receiver.waitFor(3);

    // the counters move when an attempt ends; the retry row is written just after
    const text = await eventually(async () => {
      const res = await worker.http().get('/metrics').expect(200);
      return value(res.text, 'atlas_webhooks_attempts_pending') === 1 && value(res.text, 'atlas_webhooks_attempt_duration_seconds_count') === 3
        ? res.text
        : null;
    });

    expect(samples(text, 'atlas_webhooks_attempts_total')).toEqual(
      expect.arrayContaining([
        { name: 'atlas_webhooks_attempts_total', labels: { result: 'succeeded', status_class: '2xx', trigger: 'event' }, value: 2 },
        { name: 'atlas_webhooks_attempts_total', labels: { result: 'failed', status_class: '5xx', trigger: 'event' }, value: 1 },
      ]),
    );
    expect(samples(text, 'atlas_webhooks_attempts_total')).toHaveLength(2);
    expect(value(text, 'atlas_webhooks_attempt_duration_seconds_count')).toBe(3);
    expect(value(text, 'atlas_webhooks_attempt_duration_seconds_bucket', { le: '+Inf' })).toBe(3);
    expect(value(text, 'atlas_webhooks_attempt_duration_seconds_bucket', { le: '30' })).toBe(3);
    const sum = value(text, 'atlas_webhooks_attempt_duration_seconds_sum')!;
    expect(sum).toBeGreaterThanOrEqual(0);
    expect(sum).toBeLessThan(30);
    expect(value(text, 'atlas_webhooks_events_recorded_total', { type: 'backup.created' })).toBe(2);
    expect(value(text, 'atlas_webhooks_events_recorded_total', { type: 'system.error' })).toBe(1);

    // the queue: the failed delivery's next attempt waits an hour
    expect(value(text, 'atlas_webhooks_attempts_pending')).toBe(1);
    expect(value(text, 'atlas_webhooks_attempts_due')).toBe(0);
    expect(value(text, 'atlas_webhooks_oldest_due_attempt_age_seconds')).toBe(0);
    expect(value(text, 'atlas_webhooks_disabled_webhooks')).toBe(0);
    expect(value(text, 'atlas_webhooks_database_up')).toBe(1);
    expect(value(text, 'atlas_webhooks_in_flight')).toBe(0);
    expect(value(text, 'atlas_webhooks_sweeper_runs_total')).toBeGreaterThan(0);
    expect(value(text, 'atlas_webhooks_sweeper_errors_total')).toBe(0);
    expect(value(text, 'atlas_webhooks_sweeper_last_run_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    // default process metrics, once
    expect(value(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text.match(/^# TYPE process_cpu_user_seconds_total /gm)).toHaveLength(1);

    // disabling a webhook shows, and cancels its queued retry
    await worker.http().post(`/api/webhooks/${failing}/toggle`).set(auth()).expect(200);
    const after = await eventually(async () => {
      const res = await worker.http().get('/metrics').expect(200);
      return value(res.text, 'atlas_webhooks_disabled_webhooks') === 1 && value(res.text, 'atlas_webhooks_attempts_pending') === 0 ? res.text : null;
    });
    expect(value(after, 'atlas_webhooks_attempts_total', { result: 'failed' })).toBe(1);
  });

  it('serves the Prometheus text format and never shows ids, URLs or secrets', async () => {
    const res = await worker.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; /);
    expect(res.headers['content-type']).toContain('version=0.0.4');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(webhookIds.length).toBeGreaterThan(0);
    for (const id of webhookIds) expect(res.text).not.toContain(id);
    for (const leak of [SECRET, 'url-query-secret', '127.0.0.1', String(receiver.port), '/fail', token]) expect(res.text).not.toContain(leak);
    // every line is a comment or a sample
    expect(() => parseSamples(res.text)).not.toThrow();
    // /metrics is not under /api
    await worker.http().get('/api/metrics').set(auth()).expect(404);
  });

  it('judges the client behind a loopback proxy by X-Forwarded-For (403 without a configured token)', async () => {
    const res = await worker.http().get('/metrics').set('X-Forwarded-For', '203.0.113.7').expect(403);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ status_code: 403, code: 'FORBIDDEN' });
    expect(res.body.message).toContain('203.0.113.7');
    // a login token is no metrics token
    await worker.http().get('/metrics').set('X-Forwarded-For', '203.0.113.7').set(auth()).expect(403);
  });

  describe('a second, API-only instance with METRICS_ALLOWED_NETWORKS empty and a METRICS_TOKEN', () => {
    let jwt: string;

    // Created after the worker's tests: the JWT strategy is registered with the process-wide passport
    // instance, so only the most recently created app in a process accepts its own login tokens.
    beforeAll(async () => {
      apiOnly = await createTestApp({ WEBHOOK_WORKER: 'false', METRICS_ALLOWED_NETWORKS: '', METRICS_TOKEN });
      jwt = await apiOnly.login();
    });

    it('with METRICS_ALLOWED_NETWORKS empty: 401 without the token, 401 with a wrong one, 200 with METRICS_TOKEN', async () => {
      const missing = await apiOnly.http().get('/metrics').expect(401);
      expect(missing.body).toMatchObject({ status_code: 401, code: 'UNAUTHENTICATED' });
      expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
      const wrong = await apiOnly.http().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}x`).expect(401);
      expect(wrong.body).toMatchObject({ code: 'UNAUTHENTICATED', message: 'Invalid metrics token' });
      await apiOnly
        .http()
        .get('/metrics')
        .set('Authorization', `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}`)
        .expect(401);
      const ok = await apiOnly.http().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
      expect(ok.text).toContain('# TYPE atlas_webhooks_attempts_total counter');
      // its own registry: nothing of the worker app's attempts
      expect(samples(ok.text, 'atlas_webhooks_attempts_total')).toHaveLength(0);
      expect(value(ok.text, 'atlas_webhooks_attempt_duration_seconds_count')).toBe(0);
    });

    it('shows a due attempt that no instance sends (API-only instance) and how long it has waited', async () => {
      await createWebhook(apiOnly, jwt, '/never', ['user.created']);
      await apiOnly
        .http()
        .post('/api/events')
        .set({ Authorization: `Bearer ${jwt}` })
        .send({ type: 'user.created', data: { user: 'u1' } })
        .expect(202);
      const scrape = async () => (await apiOnly.http().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200)).text;
      const text = await eventually(async () => {
        const t = await scrape();
        return value(t, 'atlas_webhooks_attempts_due') === 1 ? t : null;
      });
      expect(value(text, 'atlas_webhooks_attempts_pending')).toBe(1);
      expect(value(text, 'atlas_webhooks_events_recorded_total', { type: 'user.created' })).toBe(1);
      // it has waited longer: its due time moved 5 s into the past
      await apiOnly.app.get(DataSource).query(`UPDATE delivery_queue SET scheduled_at = scheduled_at - interval '5 seconds' WHERE locked_until IS NULL`);
      const later = await eventually(async () => {
        const t = await scrape();
        return (value(t, 'atlas_webhooks_oldest_due_attempt_age_seconds') ?? 0) >= 5 ? t : null;
      });
      expect(value(later, 'atlas_webhooks_attempts_due')).toBe(1);
      expect(value(later, 'atlas_webhooks_oldest_due_attempt_age_seconds')).toBeGreaterThanOrEqual(5);
      expect(value(later, 'atlas_webhooks_oldest_due_attempt_age_seconds')).toBeLessThan(60);
      expect(receiver.requests.filter((r) => r.path.startsWith('/never'))).toHaveLength(0);
    });
  });
});
