import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Event search by a field of the payload (`GET /api/events?data.service=nginx`):
 * a GIN index (jsonb_path_ops, containment only) over the payload as jsonb.
 * The payload column is `json` (it keeps the signed text exactly and accepts
 * what jsonb refuses: `\u0000` and unpaired surrogate escapes), so the index
 * is on `webhook_event_data(payload)`, a cast that yields NULL for such
 * payloads instead of failing the insert (they cannot be found by data field).
 * Created on the partitioned table, so every day's partition gets it.
 */
export class EventPayloadSearch1795952000000 implements MigrationInterface {
  name = 'EventPayloadSearch1795952000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION webhook_event_data(payload json) RETURNS jsonb
      LANGUAGE plpgsql IMMUTABLE STRICT AS $$
      BEGIN
        RETURN payload::jsonb;
      EXCEPTION WHEN others THEN
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`CREATE INDEX "idx_webhook_events_data" ON "webhook_events" USING gin (webhook_event_data(payload) jsonb_path_ops)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_events_data"`);
    await queryRunner.query(`DROP FUNCTION webhook_event_data(json)`);
  }
}
