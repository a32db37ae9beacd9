import { MigrationInterface, QueryRunner } from 'typeorm';

const FINISHED = `('succeeded', 'failed', 'cancelled')`;

/** SQL that creates the daily partitions of `table` for every UTC day from `fromSql` through today + 7, and its default partition. */
function dailyPartitions(table: string, fromSql: string): string {
  return `DO $$
DECLARE d date;
BEGIN
  FOR d IN SELECT generate_series(LEAST((${fromSql})::date, (now() AT TIME ZONE 'UTC')::date - 1), (now() AT TIME ZONE 'UTC')::date + 7, interval '1 day')::date LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF ${table} FOR VALUES FROM (%L) TO (%L)',
                   '${table}_p' || to_char(d, 'YYYYMMDD'), (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
  END LOOP;
  EXECUTE 'CREATE TABLE IF NOT EXISTS ${table}_default PARTITION OF ${table} DEFAULT';
END $$`;
}

/**
 * The delivery queue leaves the attempt log, and the log and the event store
 * are partitioned by day (docs/engine.md):
 *
 * - `delivery_queue`: attempts still to be sent (pending, or leased while
 *   sending), narrow and hot, three indexes; a claim only sets the lease, so
 *   it can be a HOT update.
 * - `webhook_logs`: finished attempts only, written once (append-only),
 *   partitioned by `created_at`, one partition per UTC day; retention drops
 *   whole days.
 * - `webhook_events`: partitioned by `created_at` the same way.
 * - `webhook_attempts`: a view of both, as the API shows attempts.
 *
 * Existing rows are copied: finished attempts to the new log, pending and
 * sending ones to the queue, events to the new event store. Their days get
 * partitions. On a large installation this takes a while (it is a copy, in
 * one transaction).
 */
export class QueueAndDailyPartitions1795910000000 implements MigrationInterface {
  name = 'QueueAndDailyPartitions1795910000000';

  public async up(q: QueryRunner): Promise<void> {
    // the old tables step aside (their constraint and index names are taken by the new ones)
    await q.query(`ALTER TABLE "webhook_logs" DROP CONSTRAINT "FK_d354c3da9b4ea41126f95add781"`);
    await q.query(`ALTER TABLE "webhook_logs" RENAME TO "webhook_logs_unpartitioned"`);
    await q.query(`ALTER TABLE "webhook_events" RENAME TO "webhook_events_unpartitioned"`);
    for (const index of ['idx_webhook_events_unfanned', 'idx_webhook_events_type_created_at', 'idx_webhook_events_created_at']) {
      await q.query(`ALTER INDEX "${index}" RENAME TO "${index}_old"`);
    }
    for (const index of ['uq_webhook_logs_fanout', 'idx_webhook_logs_event', 'idx_webhook_logs_created', 'idx_webhook_logs_webhook_created']) {
      await q.query(`ALTER INDEX "${index}" RENAME TO "${index}_old"`);
    }
    await q.query(`ALTER TABLE "webhook_logs_unpartitioned" RENAME CONSTRAINT "chk_webhook_logs_status" TO "chk_webhook_logs_status_old"`);

    // events
    await q.query(
      `CREATE TABLE "webhook_events" ("id" uuid NOT NULL, "type" character varying(100) NOT NULL, "payload" json NOT NULL,
         "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "fanned_out_at" TIMESTAMP WITH TIME ZONE,
         CONSTRAINT "pk_webhook_events" PRIMARY KEY ("id", "created_at")) PARTITION BY RANGE ("created_at")`,
    );
    await q.query(`CREATE INDEX "idx_webhook_events_unfanned" ON "webhook_events" ("created_at") WHERE fanned_out_at IS NULL`);
    await q.query(`CREATE INDEX "idx_webhook_events_type_created_at" ON "webhook_events" ("type", "created_at")`);
    await q.query(`CREATE INDEX "idx_webhook_events_created_at" ON "webhook_events" ("created_at")`);
    await q.query(dailyPartitions('webhook_events', `SELECT min(created_at) FROM webhook_events_unpartitioned`));
    await q.query(`INSERT INTO "webhook_events" SELECT id, type, payload, created_at, fanned_out_at FROM "webhook_events_unpartitioned"`);

    // the attempt log
    await q.query(
      `CREATE TABLE "webhook_logs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "webhook_id" uuid NOT NULL, "event_id" uuid NOT NULL,
         "event_created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "event_type" character varying(100) NOT NULL, "attempt" integer NOT NULL DEFAULT '1',
         "trigger" character varying(16) NOT NULL DEFAULT 'event', "status" character varying(16) NOT NULL, "success" boolean,
         "scheduled_at" TIMESTAMP WITH TIME ZONE NOT NULL, "status_code" integer, "duration_ms" integer, "error" text,
         "request_headers" jsonb, "response_headers" jsonb, "response_body" text, "next_retry_at" TIMESTAMP WITH TIME ZONE,
         "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE,
         CONSTRAINT "pk_webhook_logs" PRIMARY KEY ("id", "created_at"),
         CONSTRAINT "chk_webhook_logs_status" CHECK (status IN ${FINISHED})) PARTITION BY RANGE ("created_at")`,
    );
    await q.query(
      `CREATE INDEX "idx_webhook_logs_webhook_created" ON "webhook_logs" ("webhook_id", "created_at") INCLUDE ("status", "duration_ms", "event_type", "event_id")`,
    );
    await q.query(`CREATE INDEX "idx_webhook_logs_created" ON "webhook_logs" ("created_at")`);
    await q.query(`CREATE INDEX "idx_webhook_logs_event" ON "webhook_logs" ("event_id")`);
    await q.query(
      `ALTER TABLE "webhook_logs" ADD CONSTRAINT "fk_webhook_logs_webhook" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(dailyPartitions('webhook_logs', `SELECT min(created_at) FROM webhook_logs_unpartitioned`));
    await q.query(
      `INSERT INTO "webhook_logs" (id, webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, status_code,
                                   duration_ms, error, request_headers, response_headers, response_body, next_retry_at, created_at, started_at, finished_at)
       SELECT l.id, l.webhook_id, l.event_id, e.created_at, l.event_type, l.attempt, l.trigger, l.status, l.success, l.scheduled_at, l.status_code,
              l.duration_ms, l.error, l.request_headers, l.response_headers, l.response_body, l.next_retry_at, l.created_at, l.started_at, l.finished_at
       FROM "webhook_logs_unpartitioned" l JOIN "webhook_events_unpartitioned" e ON e.id = l.event_id
       WHERE l.status IN ${FINISHED}`,
    );

    // the queue
    await q.query(
      `CREATE TABLE "delivery_queue" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "webhook_id" uuid NOT NULL, "event_id" uuid NOT NULL,
         "event_created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "event_type" character varying(100) NOT NULL, "attempt" integer NOT NULL DEFAULT '1',
         "trigger" character varying(16) NOT NULL DEFAULT 'event', "scheduled_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
         "locked_until" TIMESTAMP WITH TIME ZONE, "started_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
         CONSTRAINT "pk_delivery_queue" PRIMARY KEY ("id")) WITH (fillfactor = 70)`,
    );
    await q.query(`CREATE INDEX "idx_delivery_queue_due" ON "delivery_queue" ("scheduled_at")`);
    await q.query(`CREATE INDEX "idx_delivery_queue_webhook_created" ON "delivery_queue" ("webhook_id", "created_at")`);
    await q.query(
      `ALTER TABLE "delivery_queue" ADD CONSTRAINT "fk_delivery_queue_webhook" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `INSERT INTO "delivery_queue" (id, webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, locked_until, started_at, created_at)
       SELECT l.id, l.webhook_id, l.event_id, e.created_at, l.event_type, l.attempt, l.trigger, l.scheduled_at,
              CASE WHEN l.status = 'sending' THEN l.locked_until END, CASE WHEN l.status = 'sending' THEN l.started_at END, l.created_at
       FROM "webhook_logs_unpartitioned" l JOIN "webhook_events_unpartitioned" e ON e.id = l.event_id
       WHERE l.status IN ('pending', 'sending')`,
    );

    await q.query(`DROP TABLE "webhook_logs_unpartitioned"`);
    await q.query(`DROP TABLE "webhook_events_unpartitioned"`);
    await q.query(ATTEMPTS_VIEW);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW "webhook_attempts"`);
    await q.query(`ALTER TABLE "webhook_logs" RENAME TO "webhook_logs_partitioned"`);
    await q.query(`ALTER TABLE "webhook_events" RENAME TO "webhook_events_partitioned"`);
    for (const index of ['idx_webhook_events_unfanned', 'idx_webhook_events_type_created_at', 'idx_webhook_events_created_at']) {
      await q.query(`ALTER INDEX "${index}" RENAME TO "${index}_p"`);
    }
    for (const index of ['idx_webhook_logs_event', 'idx_webhook_logs_created', 'idx_webhook_logs_webhook_created']) {
      await q.query(`ALTER INDEX "${index}" RENAME TO "${index}_p"`);
    }
    await q.query(`ALTER TABLE "webhook_logs_partitioned" RENAME CONSTRAINT "chk_webhook_logs_status" TO "chk_webhook_logs_status_p"`);
    await q.query(
      `CREATE TABLE "webhook_events" ("id" uuid NOT NULL, "type" character varying(100) NOT NULL, "payload" json NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "fanned_out_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_4cba37e6a0acb5e1fc49c34ebfd" PRIMARY KEY ("id"))`,
    );
    await q.query(`INSERT INTO "webhook_events" SELECT id, type, payload, created_at, fanned_out_at FROM "webhook_events_partitioned" ON CONFLICT DO NOTHING`);
    await q.query(`CREATE INDEX "idx_webhook_events_unfanned" ON "webhook_events" ("created_at") WHERE fanned_out_at IS NULL`);
    await q.query(`CREATE INDEX "idx_webhook_events_type_created_at" ON "webhook_events" ("type", "created_at") `);
    await q.query(`CREATE INDEX "idx_webhook_events_created_at" ON "webhook_events" ("created_at") `);
    await q.query(
      `CREATE TABLE "webhook_logs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "webhook_id" uuid NOT NULL, "event_id" uuid NOT NULL, "event_type" character varying(100) NOT NULL, "attempt" integer NOT NULL DEFAULT '1', "trigger" character varying(16) NOT NULL DEFAULT 'event', "status" character varying(16) NOT NULL DEFAULT 'pending', "success" boolean, "scheduled_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "locked_until" TIMESTAMP WITH TIME ZONE, "status_code" integer, "duration_ms" integer, "error" text, "request_headers" jsonb, "response_headers" jsonb, "response_body" text, "next_retry_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_c41f6cdf59cdfe3704807650896" PRIMARY KEY ("id"), CONSTRAINT "chk_webhook_logs_status" CHECK (status IN ('pending', 'sending', 'succeeded', 'failed', 'cancelled')))`,
    );
    await q.query(
      `INSERT INTO "webhook_logs" (id, webhook_id, event_id, event_type, attempt, trigger, status, success, scheduled_at, status_code, duration_ms, error,
                                   request_headers, response_headers, response_body, next_retry_at, created_at, started_at, finished_at)
       SELECT id, webhook_id, event_id, event_type, attempt, trigger, status, success, scheduled_at, status_code, duration_ms, error,
              request_headers, response_headers, response_body, next_retry_at, created_at, started_at, finished_at FROM "webhook_logs_partitioned"`,
    );
    await q.query(
      `INSERT INTO "webhook_logs" (id, webhook_id, event_id, event_type, attempt, trigger, status, scheduled_at, locked_until, created_at, started_at)
       SELECT id, webhook_id, event_id, event_type, attempt, trigger, CASE WHEN locked_until IS NULL THEN 'pending' ELSE 'sending' END, scheduled_at,
              locked_until, created_at, started_at FROM "delivery_queue"`,
    );
    await q.query(`DROP TABLE "delivery_queue"`);
    await q.query(`DROP TABLE "webhook_logs_partitioned"`);
    await q.query(`DROP TABLE "webhook_events_partitioned"`);
    await q.query(`CREATE UNIQUE INDEX "uq_webhook_logs_fanout" ON "webhook_logs" ("event_id", "webhook_id") WHERE attempt = 1 AND trigger = 'event'`);
    await q.query(`CREATE INDEX "idx_webhook_logs_event" ON "webhook_logs" ("event_id") `);
    await q.query(`CREATE INDEX "idx_webhook_logs_created" ON "webhook_logs" ("created_at") `);
    await q.query(
      `CREATE INDEX "idx_webhook_logs_webhook_created" ON "webhook_logs" ("webhook_id", "created_at") INCLUDE ("status", "duration_ms", "event_type", "event_id")`,
    );
    await q.query(`CREATE INDEX "idx_webhook_logs_webhook_queue" ON "webhook_logs" ("webhook_id") WHERE status IN ('pending', 'sending')`);
    await q.query(`CREATE INDEX "idx_webhook_logs_lease" ON "webhook_logs" ("locked_until") WHERE status = 'sending'`);
    await q.query(`CREATE INDEX "idx_webhook_logs_due" ON "webhook_logs" ("scheduled_at") WHERE status = 'pending'`);
    await q.query(
      `ALTER TABLE "webhook_logs" ADD CONSTRAINT "FK_0b8ec678bfddfab16abccafb3c7" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "webhook_logs" ADD CONSTRAINT "FK_d354c3da9b4ea41126f95add781" FOREIGN KEY ("event_id") REFERENCES "webhook_events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }
}

/** Every attempt as the API shows it: the queue's (pending, or sending while leased) and the log's (finished). */
const ATTEMPTS_VIEW = `CREATE VIEW "webhook_attempts" AS
  SELECT id, webhook_id, event_id, event_created_at, event_type, attempt, trigger,
         CASE WHEN locked_until > now() THEN 'sending' ELSE 'pending' END::varchar(16) AS status,
         NULL::boolean AS success, scheduled_at, locked_until, NULL::integer AS status_code, NULL::integer AS duration_ms, NULL::text AS error,
         NULL::jsonb AS request_headers, NULL::jsonb AS response_headers, NULL::text AS response_body, NULL::timestamptz AS next_retry_at,
         created_at, started_at, NULL::timestamptz AS finished_at
  FROM delivery_queue
  UNION ALL
  SELECT id, webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, NULL::timestamptz AS locked_until,
         status_code, duration_ms, error, request_headers, response_headers, response_body, next_retry_at, created_at, started_at, finished_at
  FROM webhook_logs`;
