import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Partial indexes on the attempt log for the read routes at scale (issue 10,
 * bench/README.md "scale"). Each holds only the rare rows, so the write path
 * (every finished attempt is one insert into the log) pays for them only on
 * those rows:
 *
 * - `idx_webhook_logs_webhook_unsucceeded` (webhook_id, status, created_at)
 *   WHERE status <> 'succeeded': a webhook's log filtered by `status=failed`
 *   or `cancelled` reads only its failures, newest first, instead of every
 *   attempt back in time until enough fail;
 * - `idx_webhook_logs_unsucceeded` (status, created_at) WHERE status <>
 *   'succeeded': the same across webhooks (`/logs/recent?status=failed`);
 * - `idx_webhook_logs_webhook_other_trigger` (webhook_id, created_at)
 *   INCLUDE (event_id, status) WHERE trigger <> 'event': the attempts that
 *   are not part of an event's own retry chain (test, redeliver, recover),
 *   which are the only way one event gets delivered to a webhook more than
 *   once; the stats route counts distinct delivered events with it
 *   (src/delivery/api/webhook-rollups.ts).
 *
 * On a partitioned table, CREATE INDEX builds the index on every partition
 * (and the ones created later get it); it cannot be CONCURRENTLY, so inserts
 * into the log wait while the three are built (about 25 s for 10,000,000
 * attempts on the 2-core development machine; deliveries continue after).
 */
export class UnsucceededAndRedeliveryIndexes1795970000000 implements MigrationInterface {
  name = 'UnsucceededAndRedeliveryIndexes1795970000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "idx_webhook_logs_webhook_unsucceeded" ON "webhook_logs" ("webhook_id", "status", "created_at") WHERE status <> 'succeeded'`);
    await q.query(`CREATE INDEX "idx_webhook_logs_unsucceeded" ON "webhook_logs" ("status", "created_at") WHERE status <> 'succeeded'`);
    await q.query(
      `CREATE INDEX "idx_webhook_logs_webhook_other_trigger" ON "webhook_logs" ("webhook_id", "created_at") INCLUDE ("event_id", "status") WHERE trigger <> 'event'`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "idx_webhook_logs_webhook_other_trigger"`);
    await q.query(`DROP INDEX "idx_webhook_logs_unsucceeded"`);
    await q.query(`DROP INDEX "idx_webhook_logs_webhook_unsucceeded"`);
  }
}
