import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Attempt logs used to keep the webhook's custom request headers with their
 * values (often a receiver's credentials). From now on only their names are
 * kept; this masks the values already stored. The sender's own headers
 * (the names signDelivery sets) stay as they were. Not reversible: the
 * values are gone, which is the point. The casts to jsonb keep it working
 * on the columns as json (AttemptHeadersAsJson1795985000000).
 */
export class MaskLoggedCustomHeaders1795890000000 implements MigrationInterface {
  name = 'MaskLoggedCustomHeaders1795890000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const own = `ARRAY['Content-Type', 'User-Agent', 'X-ATLAS-Event', 'X-ATLAS-Signature', 'X-ATLAS-Delivery', 'X-ATLAS-Attempt', 'webhook-id', 'webhook-timestamp', 'webhook-signature']`;
    await queryRunner.query(
      `UPDATE "webhook_logs" SET "request_headers" = (
         SELECT jsonb_object_agg(h.key, CASE WHEN h.key = ANY (${own}) THEN h.value ELSE to_jsonb('********'::text) END)
         FROM jsonb_each("request_headers"::jsonb) AS h
       )
       WHERE jsonb_typeof("request_headers"::jsonb) = 'object'
         AND EXISTS (SELECT 1 FROM jsonb_each("request_headers"::jsonb) AS h WHERE NOT h.key = ANY (${own}) AND h.value <> to_jsonb('********'::text))`,
    );
  }

  public async down(): Promise<void> {
    // the masked values cannot be restored
  }
}
