/**
 * DB_STATEMENT_TIMEOUT_MS: PostgreSQL itself cancels a statement of the
 * service's pool that runs too long, so a stuck query frees its connection
 * (no client-side timer that gives up while the query keeps running). The
 * migration lock's connection is exempt while it works, and gets the limit
 * back before it returns to the pool.
 */
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { withMigrationLock } from '../../src/database/locked-migrations';
import { eventually } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';

describe('statement_timeout on the pool (e2e)', () => {
  let t: TestApp;
  let ds: DataSource;
  let observer: Client;

  /** Statements of the service still running on the server (seen from a connection of our own). */
  const sleepersRunning = async (): Promise<number> => {
    const { rows } = await observer.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'atlas-webhooks' AND state = 'active' AND query LIKE '%pg_sleep%'`,
    );
    return rows[0].n;
  };

  beforeAll(async () => {
    t = await createTestApp({ DB_STATEMENT_TIMEOUT_MS: '300ms', DB_POOL_SIZE: '2' });
    ds = t.app.get(DataSource);
    observer = new Client({ connectionString: t.databaseUrl });
    await observer.connect();
  });
  afterAll(async () => {
    await observer.end();
    await t.close();
  });

  it('is set on every pool connection', async () => {
    const [both] = await Promise.all([ds.query<Array<{ statement_timeout: string }>>('SHOW statement_timeout'), ds.query('SELECT pg_sleep(0.05)')]);
    expect(both[0].statement_timeout).toBe('300ms');
  });

  it('cancels a statement that runs longer, on the server, and the connection serves the next query', async () => {
    const started = Date.now();
    await expect(ds.query('SELECT pg_sleep(10)')).rejects.toMatchObject({ code: '57014' }); // query_canceled
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await sleepersRunning()).toBe(0);
    // both connections of the pool of two stuck at once: both cancelled, the pool is whole again
    const stuck = await Promise.allSettled([ds.query('SELECT pg_sleep(10)'), ds.query('SELECT pg_sleep(10)')]);
    expect(stuck.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await sleepersRunning()).toBe(0);
    await expect(ds.query<Array<{ one: number }>>('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    await t.http().get('/api/health').expect(200);
  });

  it('does not limit the migration connection, and restores the limit before releasing it', async () => {
    const during = await withMigrationLock(ds, async (runner) => {
      await runner.query('SELECT pg_sleep(0.6)'); // twice the limit
      return ((await runner.query('SHOW statement_timeout')) as Array<{ statement_timeout: string }>)[0].statement_timeout;
    });
    expect(during).toBe('0');
    // every pool connection (including the one the lock used) has the limit again
    const after = await Promise.all([ds.query('SHOW statement_timeout'), ds.query('SHOW statement_timeout')]);
    expect(after).toEqual([[{ statement_timeout: '300ms' }], [{ statement_timeout: '300ms' }]]);
    await eventually(async () => (await sleepersRunning()) === 0, 5000);
  });
});
