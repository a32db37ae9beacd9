import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795874337952 implements MigrationInterface {
  name = 'InitialSchema1795874337952';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "webhooks" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(100) NOT NULL, "description" text NOT NULL DEFAULT '', "url" character varying(2048) NOT NULL, "secret" character varying(255) NOT NULL, "previous_secret" character varying(255), "previous_secret_expires_at" TIMESTAMP WITH TIME ZONE, "events" text array NOT NULL, "enabled" boolean NOT NULL DEFAULT true, "retry_enabled" boolean NOT NULL DEFAULT true, "timeout_ms" integer NOT NULL DEFAULT '10000', "headers" jsonb NOT NULL DEFAULT '{}', "last_triggered_at" TIMESTAMP WITH TIME ZONE, "last_success_at" TIMESTAMP WITH TIME ZONE, "last_failure_at" TIMESTAMP WITH TIME ZONE, "last_error" text, "consecutive_failures" integer NOT NULL DEFAULT '0', "failing_since" TIMESTAMP WITH TIME ZONE, "disabled_reason" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_9e8795cfc899ab7bdaa831e8527" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_webhooks_created_at" ON "webhooks" ("created_at") `);
    // Hand-written: fan-out matches subscriptions with `events && ARRAY[...]` on enabled webhooks.
    await queryRunner.query(`CREATE INDEX "idx_webhooks_events_enabled" ON "webhooks" USING gin ("events") WHERE enabled`);
    await queryRunner.query(
      `CREATE TABLE "webhook_events" ("id" uuid NOT NULL, "type" character varying(100) NOT NULL, "payload" json NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "fanned_out_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_4cba37e6a0acb5e1fc49c34ebfd" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_webhook_events_unfanned" ON "webhook_events" ("created_at") WHERE fanned_out_at IS NULL`);
    await queryRunner.query(`CREATE INDEX "idx_webhook_events_type_created_at" ON "webhook_events" ("type", "created_at") `);
    await queryRunner.query(`CREATE INDEX "idx_webhook_events_created_at" ON "webhook_events" ("created_at") `);
    await queryRunner.query(
      `CREATE TABLE "webhook_logs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "webhook_id" uuid NOT NULL, "event_id" uuid NOT NULL, "event_type" character varying(100) NOT NULL, "attempt" integer NOT NULL DEFAULT '1', "trigger" character varying(16) NOT NULL DEFAULT 'event', "status" character varying(16) NOT NULL DEFAULT 'pending', "success" boolean, "scheduled_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "locked_until" TIMESTAMP WITH TIME ZONE, "status_code" integer, "duration_ms" integer, "error" text, "request_headers" jsonb, "response_headers" jsonb, "response_body" text, "next_retry_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_c41f6cdf59cdfe3704807650896" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_webhook_logs_fanout" ON "webhook_logs" ("event_id", "webhook_id") WHERE attempt = 1 AND trigger = 'event'`,
    );
    await queryRunner.query(`CREATE INDEX "idx_webhook_logs_event" ON "webhook_logs" ("event_id") `);
    await queryRunner.query(`CREATE INDEX "idx_webhook_logs_created" ON "webhook_logs" ("created_at") `);
    await queryRunner.query(`CREATE INDEX "idx_webhook_logs_webhook_created" ON "webhook_logs" ("webhook_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "idx_webhook_logs_lease" ON "webhook_logs" ("locked_until") WHERE status = 'sending'`);
    await queryRunner.query(`CREATE INDEX "idx_webhook_logs_due" ON "webhook_logs" ("scheduled_at") WHERE status = 'pending'`);
    await queryRunner.query(
      `CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "username" character varying(100) NOT NULL, "password_hash" character varying(100) NOT NULL, "role" character varying(16) NOT NULL DEFAULT 'viewer', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_fe0bb3f6520ee0469504521e710" UNIQUE ("username"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "webhook_logs" ADD CONSTRAINT "FK_0b8ec678bfddfab16abccafb3c7" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "webhook_logs" ADD CONSTRAINT "FK_d354c3da9b4ea41126f95add781" FOREIGN KEY ("event_id") REFERENCES "webhook_events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webhook_logs" DROP CONSTRAINT "FK_d354c3da9b4ea41126f95add781"`);
    await queryRunner.query(`ALTER TABLE "webhook_logs" DROP CONSTRAINT "FK_0b8ec678bfddfab16abccafb3c7"`);
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_logs_due"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_logs_lease"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_logs_webhook_created"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_logs_created"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_logs_event"`);
    await queryRunner.query(`DROP INDEX "public"."uq_webhook_logs_fanout"`);
    await queryRunner.query(`DROP TABLE "webhook_logs"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_events_created_at"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_events_type_created_at"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_events_unfanned"`);
    await queryRunner.query(`DROP TABLE "webhook_events"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhooks_events_enabled"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhooks_created_at"`);
    await queryRunner.query(`DROP TABLE "webhooks"`);
  }
}
