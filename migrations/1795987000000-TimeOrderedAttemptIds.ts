import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Attempt ids made from now on are time-ordered UUIDs (version 7, RFC 9562:
 * the first 48 bits are the time in milliseconds, the rest random), made by
 * `atlas_uuid_v7()` as the queue's id default. An attempt keeps its id in the
 * log, whose primary key (id, created_at) is one of the four indexes every
 * finished attempt is inserted into: random ids put each insert on a random
 * leaf page of a partition's index, so once today's partition outgrows the
 * cache every insert reads and dirties a page of its own; ids in time order
 * all go to the same few pages at the index's end. (PostgreSQL 18 has
 * uuidv7(); this is the same layout for 13 and later.) The service makes
 * event ids the same way (src/common/uuid-v7.ts).
 */
export class TimeOrderedAttemptIds1795987000000 implements MigrationInterface {
  name = 'TimeOrderedAttemptIds1795987000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE FUNCTION atlas_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
         SELECT encode(
           set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                   placing substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                                   FROM 1 FOR 6), 52, 1), 53, 1),
           'hex')::uuid
       $$`,
    );
    await q.query(`ALTER TABLE "delivery_queue" ALTER COLUMN "id" SET DEFAULT atlas_uuid_v7()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "delivery_queue" ALTER COLUMN "id" SET DEFAULT gen_random_uuid()`);
    await q.query(`DROP FUNCTION atlas_uuid_v7()`);
  }
}
