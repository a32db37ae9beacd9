import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-endpoint rate limits and FIFO ordering (docs/engine.md, "Paced
 * webhooks"): two columns on `webhooks`, a `paced` mark on queued attempts
 * (the claim loop leaves those to the paced lane), and `delivery_pacing`, one row per
 * paced webhook, whose lock serialises the claims of its attempts across
 * instances and which carries the rate limit's theoretical arrival time.
 */
export class WebhookPacing1795940000000 implements MigrationInterface {
  name = 'WebhookPacing1795940000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "webhooks" ADD "rate_limit" integer`);
    await q.query(`ALTER TABLE "webhooks" ADD "ordering" character varying(8) NOT NULL DEFAULT 'none'`);
    await q.query(`ALTER TABLE "webhooks" ADD CONSTRAINT "chk_webhooks_rate_limit" CHECK (rate_limit IS NULL OR rate_limit > 0)`);
    await q.query(`ALTER TABLE "webhooks" ADD CONSTRAINT "chk_webhooks_ordering" CHECK (ordering IN ('none', 'fifo'))`);
    // set at insert (fan-out, retries, recover) and when a webhook's pacing changes; the claim loop skips paced rows
    await q.query(`ALTER TABLE "delivery_queue" ADD "paced" boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX "idx_webhooks_paced" ON "webhooks" ("id") WHERE rate_limit IS NOT NULL OR ordering <> 'none'`);
    await q.query(
      `CREATE TABLE "delivery_pacing" ("webhook_id" uuid NOT NULL, "next_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
         CONSTRAINT "pk_delivery_pacing" PRIMARY KEY ("webhook_id"))`,
    );
    await q.query(
      `ALTER TABLE "delivery_pacing" ADD CONSTRAINT "fk_delivery_pacing_webhook" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "delivery_pacing"`);
    await q.query(`DROP INDEX "idx_webhooks_paced"`);
    await q.query(`ALTER TABLE "delivery_queue" DROP COLUMN "paced"`);
    await q.query(`ALTER TABLE "webhooks" DROP CONSTRAINT "chk_webhooks_ordering"`);
    await q.query(`ALTER TABLE "webhooks" DROP CONSTRAINT "chk_webhooks_rate_limit"`);
    await q.query(`ALTER TABLE "webhooks" DROP COLUMN "ordering"`);
    await q.query(`ALTER TABLE "webhooks" DROP COLUMN "rate_limit"`);
  }
}
