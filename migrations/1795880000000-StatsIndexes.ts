import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for GET /api/webhooks/{id}/stats on large tables: the window
 * aggregates read only the (webhook_id, created_at) index (its INCLUDE columns
 * hold what they count), and a webhook's queue is found without scanning its
 * finished attempts.
 */
export class StatsIndexes1795880000000 implements MigrationInterface {
  name = 'StatsIndexes1795880000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_logs_webhook_created"`);
    await queryRunner.query(
      `CREATE INDEX "idx_webhook_logs_webhook_created" ON "webhook_logs" ("webhook_id", "created_at") INCLUDE ("status", "duration_ms", "event_type", "event_id")`,
    );
    await queryRunner.query(`CREATE INDEX "idx_webhook_logs_webhook_queue" ON "webhook_logs" ("webhook_id") WHERE status IN ('pending', 'sending')`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_logs_webhook_queue"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_logs_webhook_created"`);
    await queryRunner.query(`CREATE INDEX "idx_webhook_logs_webhook_created" ON "webhook_logs" ("webhook_id", "created_at") `);
  }
}
