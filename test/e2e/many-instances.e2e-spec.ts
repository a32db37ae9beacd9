/**
 * "Delivery you can trust", failure mode 2: several processes share one
 * database. The built service runs as child processes; real loopback
 * receivers count what arrives.
 *
 * Promises under test (DESIGN §2): the claim (FOR UPDATE SKIP LOCKED) and the
 * fan-out lock let any number of instances share the queue, so with healthy
 * receivers every attempt is sent exactly once between them; an API-only
 * instance (WEBHOOK_WORKER=false) records events and sends nothing, and a
 * worker started later on the same database delivers them.
 */
import { CaptureServer, eventually } from '../utils/capture-server';
import { attemptsPerPair, attemptStatusCounts } from '../utils/delivery-db';
import { Endpoint, tally } from '../utils/delivery-tally';
import { createWebhookAt, emitBurst, loginTo, sweepsLater } from '../utils/service-api';
import { ServiceProcess, startService } from '../utils/service-process';
import { Client } from 'pg';
import { MIGRATION_LOCK_KEY } from '../../src/database/locked-migrations';
import { createEmptyDatabase, createTestDatabase, TestDatabase } from '../utils/test-database';

const ENV = { WEBHOOK_SWEEP_INTERVAL_MS: '200ms' };

/** "event_id webhook_id" of every `delivery succeeded` line a process logged (LOG_LEVEL=debug). */
function succeededAttempts(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('delivery succeeded')) continue;
    const event = /event_id\W+([0-9a-f-]{36})/.exec(line)?.[1];
    const webhook = /webhook_id\W+([0-9a-f-]{36})/.exec(line)?.[1];
    if (event && webhook) out.push(`${event} ${webhook}`);
  }
  return out;
}

describe('many instances on one database', () => {
  const children: ServiceProcess[] = [];
  const databases: TestDatabase[] = [];
  const receivers: CaptureServer[] = [];

  const receiver = async (delayMs = 0): Promise<CaptureServer> => {
    const r = await new CaptureServer(() => ({ status: 200, body: 'ok', delayMs })).start();
    receivers.push(r);
    return r;
  };
  const database = async (empty = false): Promise<TestDatabase> => {
    const db = await (empty ? createEmptyDatabase() : createTestDatabase());
    databases.push(db);
    return db;
  };
  const start = async (url: string, env: Record<string, string> = {}): Promise<ServiceProcess> => {
    const child = await startService(url, { ...ENV, ...env });
    children.push(child);
    return child;
  };

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await Promise.all(receivers.map((r) => r.close()));
    await Promise.all(databases.map((d) => d.drop()));
  });

  it('two workers share the queue: every attempt is sent exactly once between them', async () => {
    const db = await database();
    // debug: one log line per finished attempt, so each instance's share of the work is visible
    const a = await start(db.url, { LOG_LEVEL: 'debug' });
    const b = await start(db.url, { LOG_LEVEL: 'debug' });
    const [tokenA, tokenB] = [await loginTo(a.baseUrl), await loginTo(b.baseUrl)];
    const endpoints: Endpoint[] = [
      { name: 'all', receiver: await receiver(), events: ['*'] },
      { name: 'services', receiver: await receiver(20), events: ['service.*'] },
      { name: 'users', receiver: await receiver(), events: ['user.created'] },
    ];
    for (const ep of endpoints) await createWebhookAt(a.baseUrl, tokenA, { url: `${ep.receiver.url}/${ep.name}`, name: ep.name, events: ep.events });

    const burst = await emitBurst(
      [
        { baseUrl: a.baseUrl, token: tokenA },
        { baseUrl: b.baseUrl, token: tokenB },
      ],
      200,
      { concurrency: 16, typeOf: (i) => (i % 4 < 2 ? 'service.started' : 'user.created') },
    );
    expect(burst.failed).toBe(0);
    const events = burst.acknowledged;
    expect(events).toHaveLength(200);

    await eventually(
      async () => {
        const r = tally(endpoints, events);
        const c = await attemptStatusCounts(db.url);
        return r.missing.length === 0 && c.pending === 0 && c.sending === 0 ? r : null;
      },
      40000,
      200,
    ).catch(async () => {
      const r = tally(endpoints, events);
      throw new Error(`not all delivered: ${r.delivered}/${r.expected}, queue ${JSON.stringify(await attemptStatusCounts(db.url))}`);
    });
    // nothing pending or sending (checked above): every result is recorded, so no late duplicate can follow
    const report = tally(endpoints, events);
    const perEndpoint = endpoints.map((e) => `${e.name}=${e.receiver.requests.length}`).join(' ');
    const sentByA = succeededAttempts(a.output());
    const sentByB = succeededAttempts(b.output());
    console.log(
      `many instances: events=${events.length} expected deliveries=${report.expected} delivered=${report.delivered} duplicates=${report.duplicates} ` +
        `received ${perEndpoint}; sent by instance A=${sentByA.length} B=${sentByB.length}`,
    );
    // Both instances did part of the work, and no attempt was sent by both.
    expect(sentByA.length).toBeGreaterThan(0);
    expect(sentByB.length).toBeGreaterThan(0);
    expect(sentByA.length + sentByB.length).toBe(400);
    const inA = new Set(sentByA);
    expect(sentByB.filter((k) => inA.has(k))).toEqual([]);

    expect(report.missing).toEqual([]);
    expect(report.duplicatePairs).toEqual([]);
    expect(report.duplicates).toBe(0);
    // 100 service.* events reach "all" and "services", 100 user.created reach "all" and "users".
    expect(report.expected).toBe(400);
    expect(endpoints.reduce((n, e) => n + e.receiver.requests.length, 0)).toBe(400);

    // The database agrees: one attempt row per (event, webhook), succeeded; nothing left pending or sending.
    const pairs = await attemptsPerPair(db.url);
    expect(pairs).toHaveLength(400);
    expect(pairs.filter((p) => p.rows !== 1 || p.succeeded !== 1)).toEqual([]);
    expect(await attemptStatusCounts(db.url)).toEqual({ pending: 0, sending: 0, succeeded: 400, failed: 0, cancelled: 0 });
  });

  it('an API-only instance (WEBHOOK_WORKER=false) records events but sends nothing; a worker started later delivers them', async () => {
    const db = await database();
    const api = await start(db.url, { WEBHOOK_WORKER: 'false' });
    const token = await loginTo(api.baseUrl);
    const endpoints: Endpoint[] = [
      { name: 'all', receiver: await receiver(), events: ['*'] },
      { name: 'backups', receiver: await receiver(), events: ['backup.*'] },
    ];
    for (const ep of endpoints) await createWebhookAt(api.baseUrl, token, { url: `${ep.receiver.url}/${ep.name}`, name: ep.name, events: ep.events });

    const burst = await emitBurst([{ baseUrl: api.baseUrl, token }], 30, {
      concurrency: 8,
      typeOf: (i) => (i % 3 === 0 ? 'backup.created' : 'domain.created'),
    });
    expect(burst.failed).toBe(0);
    expect(burst.acknowledged).toHaveLength(30);

    // Fanned out into pending attempts; two sweeps after that, still none sent, none claimed.
    await eventually(async () => (await attemptStatusCounts(db.url)).pending === 40, 15000);
    await sweepsLater(api.baseUrl, 2);
    expect(endpoints.map((e) => e.receiver.requests.length)).toEqual([0, 0]);
    expect(await attemptStatusCounts(db.url)).toEqual({ pending: 40, sending: 0, succeeded: 0, failed: 0, cancelled: 0 });

    // The worker drains that backlog as slots free up, not one batch per sweep: with 2 slots per endpoint
    // and the default 1 s sweep, 30 attempts to "all" would otherwise take 15 s.
    const worker = await start(db.url, { WEBHOOK_SWEEP_INTERVAL_MS: '1s', WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: '2' });
    const workerUpAt = Date.now();
    const report = await eventually(
      () => {
        const r = tally(endpoints, burst.acknowledged);
        return r.missing.length === 0 ? r : null;
      },
      20000,
      100,
    ).catch(() => {
      throw new Error(`the worker did not deliver everything: ${JSON.stringify(tally(endpoints, burst.acknowledged))}\n${worker.output().slice(-2000)}`);
    });
    await eventually(async () => {
      const c = await attemptStatusCounts(db.url);
      return c.succeeded === 40 ? c : null;
    });
    const drainMs = Date.now() - workerUpAt;
    console.log(
      `api-only then worker: events=${burst.acknowledged.length} delivered=${report.delivered}/${report.expected} duplicates=${report.duplicates}; backlog drained ${drainMs} ms after the worker was up`,
    );
    expect(drainMs).toBeLessThan(6000);
    expect(report.expected).toBe(40);
    expect(report.duplicates).toBe(0);
    expect(await attemptStatusCounts(db.url)).toEqual({ pending: 0, sending: 0, succeeded: 40, failed: 0, cancelled: 0 });
  });

  it('instances started at once on an empty database migrate one at a time, under an advisory lock, and all serve', async () => {
    const db = await database(true);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      // Hold the migration lock, as an instance in the middle of migrating would.
      await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      const starting = Promise.allSettled([start(db.url), start(db.url), start(db.url)]);
      const waiting = async () =>
        Number(
          (
            await client.query(
              `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
            )
          ).rows[0].n,
        );
      await eventually(async () => (await waiting()) === 3, 20000, 100);
      // all three wait; none has touched the schema
      expect((await client.query(`SELECT to_regclass('public.migrations') AS t`)).rows[0].t).toBeNull();
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);

      const started = await starting;
      const failures = started.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason).slice(0, 1500));
      expect(failures).toEqual([]);
      const instances = started.map((r) => (r as PromiseFulfilledResult<ServiceProcess>).value);

      // each migration applied once, by one of them; the others waited, then found nothing to do
      const { rows } = await client.query<{ name: string; n: string }>(`SELECT name, count(*) AS n FROM migrations GROUP BY name ORDER BY name`);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((r) => r.n !== '1')).toEqual([]);
      const appliedBy = instances.filter((i) => new RegExp(`Applied ${rows.length} migration`).test(i.output()));
      const waited = instances.filter((i) => /Another instance is migrating the database: waiting/.test(i.output()));
      console.log(`migrations at once: ${instances.length} instances up, ${appliedBy.length} applied ${rows.length} migrations, ${waited.length} waited`);
      expect(appliedBy).toHaveLength(1);
      expect(waited).toHaveLength(3);
      expect((await client.query(`SELECT count(*) AS n FROM users WHERE username = 'admin'`)).rows[0].n).toBe('1');
      // every instance serves the API on the shared schema
      for (const i of instances) expect((await loginTo(i.baseUrl)).length).toBeGreaterThan(20);
    } finally {
      await client.end();
    }
  });
});
