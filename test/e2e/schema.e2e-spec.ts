/**
 * The schema comes from migrations/ (synchronize stays off): the migrated
 * database must be exactly what the entities describe, and the table
 * constraints hold what the code assumes.
 */
import { DataSource } from 'typeorm';
import { ATTEMPT_STATUSES, Status } from '../../src/delivery/attempt-status';
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

  it('webhook_logs (finished attempts only) accepts succeeded, failed and cancelled, and refuses any other status', async () => {
    const [hook] = await ds.query<Array<{ id: string }>>(
      `INSERT INTO webhooks (name, url, secret, events) VALUES ('s', 'http://x.test/', 'sec', '{}') RETURNING id`,
    );
    const insert = (status: string) =>
      ds.query(
        `INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, scheduled_at)
         VALUES ($1, gen_random_uuid(), now(), 'backup.created', 1, 'redeliver', $2, now())`,
        [hook.id, status],
      );
    for (const status of [Status.Succeeded, Status.Failed, Status.Cancelled]) await insert(status);
    for (const status of [Status.Pending, Status.Sending, 'delivered']) await expect(insert(status)).rejects.toThrow(/chk_webhook_logs_status/);
    expect(ATTEMPT_STATUSES).toEqual(expect.arrayContaining([Status.Pending, Status.Sending, Status.Succeeded, Status.Failed, Status.Cancelled]));
  });
});
