import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The attempt statuses (src/delivery/attempt-status.ts) as a CHECK
 * constraint. Added NOT VALID, then validated: validation reads the table
 * without blocking the writes of a running installation.
 */
export class AttemptStatusCheck1795900000000 implements MigrationInterface {
  name = 'AttemptStatusCheck1795900000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "webhook_logs" ADD CONSTRAINT "chk_webhook_logs_status" CHECK (status IN ('pending', 'sending', 'succeeded', 'failed', 'cancelled')) NOT VALID`,
    );
    await queryRunner.query(`ALTER TABLE "webhook_logs" VALIDATE CONSTRAINT "chk_webhook_logs_status"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webhook_logs" DROP CONSTRAINT "chk_webhook_logs_status"`);
  }
}
