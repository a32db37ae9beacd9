import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotent emits: one row per claimed key (src/events/idempotency-key.entity.ts).
 * Its primary key decides a race between instances; the expiry index serves
 * the periodic clean-up.
 */
export class EventIdempotencyKeys1795950000000 implements MigrationInterface {
  name = 'EventIdempotencyKeys1795950000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "event_idempotency_keys" ("key" character varying(300) NOT NULL, "request_hash" character varying(64) NOT NULL, "event_id" uuid NOT NULL, "event_created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "pk_event_idempotency_keys" PRIMARY KEY ("key"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_event_idempotency_keys_expires_at" ON "event_idempotency_keys" ("expires_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "event_idempotency_keys"`);
  }
}
