/**
 * "Delivery you can trust", failure mode 8: PostgreSQL goes away while the
 * service runs, then comes back. This file starts a PostgreSQL of its own
 * (so it can stop and start it) and runs the built service on it as a child
 * process; a real loopback receiver counts what arrives.
 *
 * Promises under test: during the outage the process stays up, /api/health
 * says 503 with `database: "down"`, requests get a clear 503 JSON error
 * instead of a crash or a hang; when the database is back, health returns to
 * 200 by itself and delivery resumes: events accepted before the outage
 * (including attempts whose result could not be recorded) and after it are
 * all delivered.
 */
import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { CaptureServer, eventually } from '../utils/capture-server';
import { attemptStatusCounts } from '../utils/delivery-db';
import { Endpoint, tally } from '../utils/delivery-tally';
import { postgresReachableTempDir } from '../utils/embedded-service';
import { callApi, createWebhookAt, emitBurst, loginTo, sleep } from '../utils/service-api';
import { freePort, ServiceProcess, startService } from '../utils/service-process';

const DATABASE = 'atlas_outage';

describe('database outage: PostgreSQL stops and starts again under a running service', () => {
  let dataDir: string;
  let port: number;
  let pg: EmbeddedPostgres | undefined;
  let service: ServiceProcess | undefined;
  let receiver: CaptureServer | undefined;

  const startPostgres = async (): Promise<EmbeddedPostgres> => {
    const server = new EmbeddedPostgres({ dataDir: join(dataDir, 'pg'), port, fast: true });
    await server.start();
    return server;
  };

  beforeAll(async () => {
    dataDir = postgresReachableTempDir('atlas-outage-');
    port = await freePort();
    pg = await startPostgres();
    await pg.createDatabase(DATABASE);
    const ds = new DataSource({ ...dataSourceOptions(pg.url(DATABASE), 1), logging: false });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.destroy();
  });

  afterAll(async () => {
    service?.kill('SIGKILL');
    await service?.exited;
    await receiver?.close();
    await pg?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('stays up and says so during the outage, then recovers and delivers everything by itself', async () => {
    const url = pg!.url(DATABASE);
    // A short lease: an attempt whose result could not be written during the outage is sent again soon after.
    service = await startService(url, { WEBHOOK_LEASE_MS: '3s', WEBHOOK_SWEEP_INTERVAL_MS: '200ms' });
    const baseUrl = service.baseUrl;
    let delayMs = 1500;
    receiver = await new CaptureServer(() => ({ status: 200, body: 'ok', delayMs })).start();
    const endpoints: Endpoint[] = [{ name: 'hook', receiver, events: ['*'] }];
    const token = await loginTo(baseUrl);
    await createWebhookAt(baseUrl, token, { url: `${receiver.url}/hook`, name: 'hook', events: ['*'] });

    // Accepted before the outage; their attempts are still in flight at the slow receiver when PostgreSQL stops.
    const before = await emitBurst([{ baseUrl, token }], 5, { concurrency: 5, typeOf: () => 'backup.created' });
    expect(before.acknowledged).toHaveLength(5);
    await receiver.waitFor(1, 10000);

    await pg!.stop();
    const outageAt = Date.now();

    // Health reports the outage within a few seconds…
    const health = await eventually(
      async () => {
        const r = await callApi<{ status: string; database: string }>(baseUrl, null, 'GET', '/api/health');
        return r.status === 503 ? r : null;
      },
      8000,
      200,
    );
    const reportedAfterMs = Date.now() - outageAt;
    expect(health.body).toMatchObject({ status: 'error', database: 'down' });

    // …and requests that need the database get a clear 503, not a crash and not a misleading 401.
    const emit = await callApi<{ status_code: number; code: string; message: string }>(baseUrl, token, 'POST', '/api/events', {
      type: 'backup.created',
      data: { during: 'outage' },
    });
    expect(emit.status).toBe(503);
    expect(emit.body).toMatchObject({ status_code: 503, code: 'DATABASE_UNAVAILABLE', message: expect.stringMatching(/database/i) });
    const list = await callApi(baseUrl, token, 'GET', '/api/webhooks');
    expect(list.status).toBe(503);

    // Several failed sweeps later the process is still alive and still answering.
    await sleep(2000);
    expect(service.child.exitCode).toBeNull();
    expect(service.child.signalCode).toBeNull();
    expect((await callApi(baseUrl, null, 'GET', '/api/health')).status).toBe(503);

    // PostgreSQL is back (same folder, same port): health returns to 200 with no restart of the service.
    delayMs = 0;
    const sentDuringOutage = receiver.requests.length; // each may have lost its result
    pg = await startPostgres();
    const backAt = Date.now();
    await eventually(async () => (await callApi(baseUrl, null, 'GET', '/api/health')).status === 200, 15000, 200).catch(() => {
      throw new Error(`health did not return to 200 after the database came back:\n${service!.output().slice(-3000)}`);
    });
    const healthyAfterMs = Date.now() - backAt;

    // An event emitted now is delivered, and so is every event accepted before the outage.
    const after = await emitBurst([{ baseUrl, token }], 3, { concurrency: 3, typeOf: () => 'backup.restored' });
    expect(after.acknowledged).toHaveLength(3);
    const everything = [...before.acknowledged, ...after.acknowledged];
    const report = await eventually(
      () => {
        const r = tally(endpoints, everything);
        return r.missing.length === 0 ? r : null;
      },
      20000,
      200,
    ).catch(() => {
      throw new Error(`not delivered after the outage: ${tally(endpoints, everything).missing.join(', ')}\n${service!.output().slice(-3000)}`);
    });
    await eventually(async () => {
      const c = await attemptStatusCounts(url);
      return c.pending === 0 && c.sending === 0 ? c : null;
    }, 15000);
    const counts = await attemptStatusCounts(url);
    const final = tally(endpoints, everything);
    console.log(
      `database outage: 503 reported ${reportedAfterMs} ms after PostgreSQL stopped; healthy ${healthyAfterMs} ms after it restarted; ` +
        `delivered=${final.delivered}/${final.expected} duplicates=${final.duplicates} (requests sent before the database came back: ${sentDuringOutage}); attempts ${JSON.stringify(counts)}`,
    );
    expect(report.delivered).toBe(8);
    // The attempt in flight at the stop was answered during the outage: its result could not be recorded,
    // so it stayed `sending` and was sent again once its lease expired. Only such attempts arrive twice.
    expect(service.output()).toMatch(/Could not record \d+ attempt results/);
    expect(service.output()).toMatch(/outlived their lease/);
    expect(final.duplicates).toBeGreaterThanOrEqual(1);
    expect(final.duplicates).toBeLessThanOrEqual(sentDuringOutage);
    expect(final.duplicatePairs.every((p) => p.deliveryIds.length === 1)).toBe(true); // the same attempt row, sent again
    expect(counts).toMatchObject({ pending: 0, sending: 0, succeeded: 8 });
    expect(service.child.exitCode).toBeNull();
    expect(service.output()).toMatch(/Sweep failed/);
  });
});
