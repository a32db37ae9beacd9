import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The attempt log keeps the request and response headers as `json` (the
 * text, validated) instead of `jsonb` (parsed into a binary tree). Nothing
 * queries inside them: the log routes hand them back whole. Writing jsonb
 * parsed both objects of every finished attempt inside the result write:
 * measured on the 2-core development machine, turning 200-row batches of
 * the headers the engine records into rows cost about 30 µs more per row as
 * jsonb than as json (docs/engine.md, "The write path"). The columns read
 * back the same (node-postgres parses json and jsonb alike).
 *
 * The view `webhook_attempts` names the columns' type, so it is made again.
 * Changing the type rewrites the log (every partition) once, under the
 * table's lock: about 1.3 s per 100,000 attempts on the development machine
 * (300,000 in 3.8 s, its indexes rebuilt too).
 */
export class AttemptHeadersAsJson1795985000000 implements MigrationInterface {
  name = 'AttemptHeadersAsJson1795985000000';

  public async up(q: QueryRunner): Promise<void> {
    await this.retype(q, 'json');
  }

  public async down(q: QueryRunner): Promise<void> {
    await this.retype(q, 'jsonb');
  }

  private async retype(q: QueryRunner, type: 'json' | 'jsonb'): Promise<void> {
    await q.query(`DROP VIEW "webhook_attempts"`);
    await q.query(
      `ALTER TABLE "webhook_logs" ALTER COLUMN "request_headers" TYPE ${type} USING "request_headers"::${type},
                                  ALTER COLUMN "response_headers" TYPE ${type} USING "response_headers"::${type}`,
    );
    await q.query(attemptsView(type));
  }
}

function attemptsView(headers: 'json' | 'jsonb'): string {
  return `CREATE VIEW "webhook_attempts" AS
  SELECT id, webhook_id, event_id, event_created_at, event_type, attempt, trigger,
         CASE WHEN locked_until > now() THEN 'sending' ELSE 'pending' END::varchar(16) AS status,
         NULL::boolean AS success, scheduled_at, locked_until, NULL::integer AS status_code, NULL::integer AS duration_ms, NULL::text AS error,
         NULL::${headers} AS request_headers, NULL::${headers} AS response_headers, NULL::text AS response_body, NULL::timestamptz AS next_retry_at,
         created_at, started_at, NULL::timestamptz AS finished_at
  FROM delivery_queue
  UNION ALL
  SELECT id, webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, NULL::timestamptz AS locked_until,
         status_code, duration_ms, error, request_headers, response_headers, response_body, next_retry_at, created_at, started_at, finished_at
  FROM webhook_logs`;
}
