import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Typed events: the persisted part of the catalogue (src/events/event-type.entity.ts):
 * admin-added types and overrides of the built-in ones. Small; read whole.
 */
export class EventTypes1795951000000 implements MigrationInterface {
  name = 'EventTypes1795951000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "event_types" ("type" character varying(100) NOT NULL, "builtin" boolean NOT NULL, "category" character varying(50) NOT NULL, "description" text, "schema" jsonb, "example" jsonb, "enforced" boolean NOT NULL, "deprecated" boolean NOT NULL DEFAULT false, "version" integer NOT NULL DEFAULT '1', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_event_types" PRIMARY KEY ("type"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "event_types"`);
  }
}
