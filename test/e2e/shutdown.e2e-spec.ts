/**
 * "Delivery you can trust", failure mode 7: the process is asked to stop
 * (SIGTERM, as systemd, Docker and Kubernetes do) while deliveries are in
 * flight. The built service runs as a child process; real loopback receivers.
 *
 * Promises under test: exit code 0 within WEBHOOK_SHUTDOWN_GRACE_MS plus a
 * margin; attempts in flight either finish and are recorded, or (grace over)
 * go back to `pending`; nothing is left `sending`; the next instance delivers
 * every event. With the embedded PostgreSQL (no DATABASE_URL), the database
 * server stops with the service and its data is there on the next start.
 */
import { rmSync } from 'node:fs';
import { CaptureServer, eventually } from '../utils/capture-server';
import { attemptsPerPair, attemptStatusCounts, queryDb } from '../utils/delivery-db';
import { deliveryIdOf, Endpoint, tally } from '../utils/delivery-tally';
import { postgresProcessesFor, postgresReachableTempDir, postmasterPid, processAlive, startEmbeddedService } from '../utils/embedded-service';
import { callApi, createWebhookAt, emitBurst, loginTo, sleep } from '../utils/service-api';
import { freePort, ServiceProcess, startService } from '../utils/service-process';
import { createTestDatabase } from '../utils/test-database';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

/** SIGTERM, then the exit and how long it took. */
async function terminate(child: ServiceProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const t0 = Date.now();
  child.kill('SIGTERM');
  const exit = await child.exited;
  return { ...exit, ms: Date.now() - t0 };
}

describe('shutdown on SIGTERM', () => {
  const children: ServiceProcess[] = [];
  const databases: TestDatabase[] = [];
  const receivers: CaptureServer[] = [];
  const embeddedDirs: string[] = [];

  const start = async (url: string, env: Record<string, string>): Promise<ServiceProcess> => {
    const child = await startService(url, { WEBHOOK_SWEEP_INTERVAL_MS: '200ms', ...env });
    children.push(child);
    return child;
  };

  afterAll(async () => {
    // SIGTERM first so an embedded PostgreSQL is stopped by its service, then SIGKILL whatever is left.
    for (const c of children) c.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(children.map((c) => c.exited)), new Promise((r) => (timer = setTimeout(r, 15000)))]);
    clearTimeout(timer);
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    for (const dir of embeddedDirs) {
      for (const pid of postgresProcessesFor(dir)) process.kill(pid, 'SIGKILL'); // only after a failure
      rmSync(dir, { recursive: true, force: true });
    }
    await Promise.all(receivers.map((r) => r.close()));
    await Promise.all(databases.map((d) => d.drop()));
  });

  /** A database with one webhook ("*") to a receiver that answers 200 after `delayMs`. */
  async function setUp(env: Record<string, string>, delayMs: number) {
    const db = await createTestDatabase();
    databases.push(db);
    const receiver = await new CaptureServer(() => ({ status: 200, body: 'ok', delayMs })).start();
    receivers.push(receiver);
    const first = await start(db.url, env);
    const token = await loginTo(first.baseUrl);
    const endpoints: Endpoint[] = [{ name: 'slow', receiver, events: ['*'] }];
    await createWebhookAt(first.baseUrl, token, { url: `${receiver.url}/hook`, name: 'slow', events: ['*'] });
    return { db, receiver, first, token, endpoints };
  }

  it('waits for in-flight attempts within the grace, records them, exits 0; the next instance sends the rest exactly once', async () => {
    const GRACE_MS = 5000;
    const env = { WEBHOOK_SHUTDOWN_GRACE_MS: `${GRACE_MS}ms`, WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: '8' };
    const { db, receiver, first, token, endpoints } = await setUp(env, 1000);

    const burst = await emitBurst([{ baseUrl: first.baseUrl, token }], 20, { concurrency: 20 });
    expect(burst.acknowledged).toHaveLength(20);
    await receiver.waitFor(4, 10000); // attempts are now in flight at the 1 s receiver
    // claimed: in flight at the receiver, and claimed ahead, waiting for a slot (the waiting room)
    const { sending } = await attemptStatusCounts(db.url);
    const inFlight = receiver.requests.length;
    expect(sending).toBeGreaterThanOrEqual(inFlight);

    const exit = await terminate(first);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(GRACE_MS + 3000);
    expect(first.output()).toMatch(/SIGTERM received/);

    // Every request that reached the receiver was answered and recorded as succeeded; the rest wait in the queue.
    const after = await attemptStatusCounts(db.url);
    const [{ unfanned }] = await queryDb<{ unfanned: number }>(db.url, `SELECT count(*)::int AS unfanned FROM webhook_events WHERE fanned_out_at IS NULL`);
    console.log(
      `shutdown (grace ${GRACE_MS} ms, receiver 1 s): exit ${exit.code} after ${exit.ms} ms; at SIGTERM in flight=${inFlight} claimed (sending)=${sending}; ` +
        `after: ${JSON.stringify(after)} unfanned=${unfanned}; receiver got ${receiver.requests.length}`,
    );
    expect(after.sending).toBe(0);
    expect(after.failed).toBe(0);
    expect(after.succeeded).toBe(receiver.requests.length);
    expect(after.succeeded).toBeGreaterThanOrEqual(inFlight);
    expect(after.succeeded + after.pending + unfanned).toBe(20);

    receiver.respondWith(() => ({ status: 200, body: 'ok' }));
    const second = await start(db.url, env);
    const report = await eventually(() => {
      const r = tally(endpoints, burst.acknowledged);
      return r.missing.length === 0 ? r : null;
    }, 20000).catch(() => {
      throw new Error(`not every event arrived after the restart: ${JSON.stringify(tally(endpoints, burst.acknowledged))}\n${second.output().slice(-2000)}`);
    });
    await eventually(async () => ((await attemptStatusCounts(db.url)).succeeded === 20 ? true : null));
    expect(report.duplicates).toBe(0); // nothing was cut mid-flight, so nothing is sent twice
    expect(await attemptStatusCounts(db.url)).toEqual({ pending: 0, sending: 0, succeeded: 20, failed: 0, cancelled: 0 });
  });

  it('grace shorter than the receiver: unfinished attempts go back to pending and the next instance delivers them', async () => {
    const GRACE_MS = 500;
    const env = { WEBHOOK_SHUTDOWN_GRACE_MS: `${GRACE_MS}ms`, WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: '8' };
    const { db, receiver, first, token, endpoints } = await setUp(env, 3000);

    const burst = await emitBurst([{ baseUrl: first.baseUrl, token }], 12, { concurrency: 12 });
    expect(burst.acknowledged).toHaveLength(12);
    await receiver.waitFor(1, 10000);
    await sleep(300); // let the other claimed attempts reach the receiver

    const exit = await terminate(first);
    const cut = receiver.requests.map(deliveryIdOf); // none of them was answered: the receiver takes 3 s
    expect(cut.length).toBeGreaterThan(0);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(2500); // well before the receiver's 3 s answer: the grace, not the receiver, decided
    expect(first.output()).toMatch(/Returning \d+ unfinished attempts to the queue/);

    const after = await attemptStatusCounts(db.url);
    const cutRows = await queryDb<{ id: string; status: string }>(db.url, `SELECT id, status FROM webhook_attempts WHERE id = ANY($1::uuid[])`, [cut]);
    console.log(
      `shutdown (grace ${GRACE_MS} ms, receiver 3 s): exit ${exit.code} after ${exit.ms} ms; requests cut=${cut.length}; after: ${JSON.stringify(after)}`,
    );
    expect(after).toMatchObject({ sending: 0, succeeded: 0, failed: 0 });
    expect(cutRows).toHaveLength(cut.length);
    expect(cutRows.filter((r) => r.status !== 'pending')).toEqual([]);

    receiver.respondWith(() => ({ status: 200, body: 'ok' }));
    const second = await start(db.url, env);
    await eventually(async () => ((await attemptStatusCounts(db.url)).succeeded === 12 ? true : null), 20000).catch(async () => {
      throw new Error(`not every event was delivered after the restart: ${JSON.stringify(await attemptStatusCounts(db.url))}\n${second.output().slice(-2000)}`);
    });
    const report = tally(endpoints, burst.acknowledged);
    console.log(
      `  after restart: delivered=${report.delivered}/${report.expected} duplicates=${report.duplicates} (the ${cut.length} cut requests, sent again)`,
    );
    expect(report.missing).toEqual([]);
    // Only the attempts cut mid-flight arrive twice, and they were sent again as the same attempt rows.
    expect(report.duplicates).toBe(cut.length);
    expect(report.duplicatePairs.flatMap((p) => p.deliveryIds).sort()).toEqual([...cut].sort());
    const pairs = await attemptsPerPair(db.url);
    expect(pairs.filter((p) => p.rows !== 1 || p.succeeded !== 1)).toEqual([]);
  });

  it('with the embedded PostgreSQL: exits 0, leaves no postgres process, and the data is there on the next start', async () => {
    const dataDir = postgresReachableTempDir('atlas-embedded-');
    embeddedDirs.push(dataDir);
    const pgPort = await freePort();

    const first = await startEmbeddedService(dataDir, pgPort);
    children.push(first);
    const pid = postmasterPid(dataDir);
    expect(pid).not.toBeNull();
    expect(processAlive(pid!)).toBe(true);
    expect(postgresProcessesFor(dataDir).length).toBeGreaterThan(0);
    const token = await loginTo(first.baseUrl);
    const id = await createWebhookAt(first.baseUrl, token, { url: 'https://example.com/kept', name: 'kept across restarts', events: ['backup.created'] });

    const exit = await terminate(first);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(first.output()).toMatch(/Embedded PostgreSQL stopped/);
    expect(processAlive(pid!)).toBe(false);
    expect(postgresProcessesFor(dataDir)).toEqual([]);

    // Right away, on the same DATA_DIR (and port): the cluster starts again with its data.
    const second = await startEmbeddedService(dataDir, pgPort);
    children.push(second);
    const token2 = await loginTo(second.baseUrl);
    const list = await callApi<{ id: string; name: string }[] | { items: Array<{ id: string; name: string }> }>(second.baseUrl, token2, 'GET', '/api/webhooks');
    expect(list.status).toBe(200);
    const items = Array.isArray(list.body) ? list.body : list.body.items;
    expect(items.map((w) => [w.id, w.name])).toEqual([[id, 'kept across restarts']]);
    const pid2 = postmasterPid(dataDir);

    const exit2 = await terminate(second);
    console.log(`embedded: first exit ${exit.code} after ${exit.ms} ms, second exit ${exit2.code} after ${exit2.ms} ms; postmaster pids ${pid} then ${pid2}`);
    expect({ code: exit2.code, signal: exit2.signal }).toEqual({ code: 0, signal: null });
    expect(postgresProcessesFor(dataDir)).toEqual([]);
  });
});
