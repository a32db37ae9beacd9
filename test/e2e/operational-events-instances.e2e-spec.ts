/**
 * Operational events with two instances on one database: each state change
 * of a webhook is raised exactly once between them (it is read off the row
 * update that made it), and each exhausted event once (off the move of its
 * attempt from the queue to the log).
 */
import { CaptureServer, eventually } from '../utils/capture-server';
import { createWebhookAt, emitBurst, loginTo } from '../utils/service-api';
import { ServiceProcess, startService } from '../utils/service-process';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

describe('Operational events across two instances (e2e)', () => {
  let db: TestDatabase;
  const children: ServiceProcess[] = [];
  let receiver: CaptureServer;
  let failing = true;

  beforeAll(async () => {
    db = await createTestDatabase();
    receiver = await new CaptureServer((req) => ({ status: req.path === '/flaky' && failing ? 500 : 200 })).start();
    const env = { WEBHOOK_SWEEP_INTERVAL_MS: '200ms', WEBHOOK_FAILING_AFTER_FAILURES: '3' };
    children.push(await startService(db.url, env), await startService(db.url, env));
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await receiver.close();
    await db.drop();
  });

  const ops = (type: string) =>
    receiver.requests
      .filter((r) => r.path === '/ops')
      .map((r) => JSON.parse(r.body) as { event: string; data: Record<string, unknown> })
      .filter((d) => d.event === type);

  it('raises endpoint_failing and endpoint_recovered once, and attempts_exhausted once per event, whichever instance wrote the results', async () => {
    const [a, b] = children;
    const targets = [
      { baseUrl: a.baseUrl, token: await loginTo(a.baseUrl) },
      { baseUrl: b.baseUrl, token: await loginTo(b.baseUrl) },
    ];
    await createWebhookAt(a.baseUrl, targets[0].token, { url: `${receiver.url}/ops`, name: 'ops', events: ['webhook.*'] });
    const flaky = await createWebhookAt(a.baseUrl, targets[0].token, {
      url: `${receiver.url}/flaky`,
      name: 'flaky',
      events: ['service.*'],
      retry_enabled: false,
    });

    const down = await emitBurst(targets, 40, { concurrency: 8 });
    expect(down.acknowledged).toHaveLength(40);
    await eventually(() => ops('webhook.attempts_exhausted').length === 40, 30000);
    expect(ops('webhook.endpoint_failing')).toHaveLength(1);
    expect(ops('webhook.endpoint_failing')[0].data).toMatchObject({ webhook_id: flaky, webhook_name: 'flaky' });
    expect(new Set(ops('webhook.attempts_exhausted').map((d) => d.data.event_id))).toEqual(new Set(down.acknowledged.map((e) => e.id)));

    failing = false;
    const up = await emitBurst(targets, 20, { concurrency: 8 });
    expect(up.acknowledged).toHaveLength(20);
    await eventually(() => receiver.requests.filter((r) => r.path === '/flaky').length === 60, 30000);
    await eventually(() => ops('webhook.endpoint_recovered').length >= 1);
    // let any straggler arrive: still one of each
    await new Promise((r) => setTimeout(r, 1000));
    expect(ops('webhook.endpoint_recovered')).toHaveLength(1);
    expect(ops('webhook.endpoint_failing')).toHaveLength(1);
    expect(ops('webhook.attempts_exhausted')).toHaveLength(40);
    // both instances did part of the work
    const sent = await Promise.all(
      children.map(async (c) => {
        const text = await fetch(`${c.baseUrl}/metrics`).then((r) => r.text());
        return [...text.matchAll(/^atlas_webhooks_attempts_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      }),
    );
    expect(sent.every((n) => n > 0)).toBe(true);
  });
});
