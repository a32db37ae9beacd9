import { MigrationInterface, QueryRunner } from 'typeorm';

/** The optional payload filter of a webhook (src/webhooks/payload-filter.ts); null: no filter. */
export class WebhookFilter1795930000000 implements MigrationInterface {
  name = 'WebhookFilter1795930000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webhooks" ADD "filter" jsonb`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webhooks" DROP COLUMN "filter"`);
  }
}
