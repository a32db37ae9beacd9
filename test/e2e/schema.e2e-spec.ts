/**
 * The schema comes from migrations/ (synchronize stays off): the migrated
 * database must be exactly what the entities describe, and the table
 * constraints hold what the code assumes.
 */
import { DataSource } from 'typeorm';
import { ATTEMPT_STATUSES } from '../../src/delivery/attempt-status';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

describe('Schema (e2e)', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource(dataSourceOptions(db.url, 1)).initialize();
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('the migrations leave nothing for TypeORM to generate against the entities', async () => {
    const sql = await ds.driver.createSchemaBuilder().log();
    expect(sql.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('webhook_logs accepts every attempt status and refuses any other', async () => {
    const [hook] = await ds.query<Array<{ id: string }>>(
      `INSERT INTO webhooks (name, url, secret, events) VALUES ('s', 'http://x.test/', 'sec', '{}') RETURNING id`,
    );
    const [event] = await ds.query<Array<{ id: string }>>(
      `INSERT INTO webhook_events (id, type, payload) VALUES (gen_random_uuid(), 'backup.created', '{}') RETURNING id`,
    );
    const insert = (status: string) =>
      ds.query(`INSERT INTO webhook_logs (webhook_id, event_id, event_type, attempt, trigger, status) VALUES ($1, $2, 'backup.created', 1, 'redeliver', $3)`, [
        hook.id,
        event.id,
        status,
      ]);
    for (const status of ATTEMPT_STATUSES) await insert(status);
    await expect(insert('delivered')).rejects.toThrow(/chk_webhook_logs_status/);
  });
});
