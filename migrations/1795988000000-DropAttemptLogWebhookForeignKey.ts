import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The attempt log loses its foreign key to `webhooks`. Its check ran for
 * every finished attempt inside the result write, one lookup and a row lock
 * on the webhook each (about 7 µs of PostgreSQL per attempt in 200-row
 * batches, EXPLAIN ANALYZE on the development machine). Deleting a webhook
 * now deletes its log in the deletion's transaction
 * (`AttemptStore.deleteLogOf`, registered with `WebhooksService.onRemove`);
 * the queue keeps its foreign key, whose cascade orders the deletion against
 * result writes (docs/engine.md, "What each attempt costs the database").
 */
export class DropAttemptLogWebhookForeignKey1795988000000 implements MigrationInterface {
  name = 'DropAttemptLogWebhookForeignKey1795988000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "webhook_logs" DROP CONSTRAINT "fk_webhook_logs_webhook"`);
  }

  public async down(q: QueryRunner): Promise<void> {
    // rows a deletion could not reach (none, unless written by hand) would fail the constraint
    await q.query(`DELETE FROM "webhook_logs" l WHERE NOT EXISTS (SELECT 1 FROM "webhooks" w WHERE w.id = l.webhook_id)`);
    await q.query(
      `ALTER TABLE "webhook_logs" ADD CONSTRAINT "fk_webhook_logs_webhook" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }
}
