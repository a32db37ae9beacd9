import { Logger } from '@nestjs/common';
import { DataSource, Migration, MigrationExecutor, QueryRunner } from 'typeorm';

const logger = new Logger('Database');

/**
 * The key of the session-level advisory lock that serialises migration runs
 * across instances (any 64-bit number no other code uses; this one spells
 * "ATLASWHM" in ASCII).
 */
export const MIGRATION_LOCK_KEY = '4705233031416481101';

/**
 * Runs `work` on one connection that holds the migration lock for the
 * duration. Several instances starting at once on a fresh or an older
 * database then migrate one after the other: the first applies the pending
 * migrations, the others wait, then find nothing left to apply. The
 * migrations run on that same connection, so a pool of one is enough.
 *
 * The connection's `statement_timeout` (DB_STATEMENT_TIMEOUT_MS) is lifted while it works: waiting
 * for another instance's migrations, or a migration rewriting a large table, may take longer than
 * any API statement should; it is restored before the connection goes back to the pool.
 */
export async function withMigrationLock<T>(ds: DataSource, work: (runner: QueryRunner) => Promise<T>): Promise<T> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SET statement_timeout = 0');
    const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [MIGRATION_LOCK_KEY])) as Array<{ locked: boolean }>;
    if (!locked) {
      logger.log('Another instance is migrating the database: waiting for it to finish');
      await runner.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    }
    try {
      return await work(runner);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    // back to the value the connection was opened with; if the connection is broken the release below drops it
    await runner.query('RESET statement_timeout').catch((err: unknown) => logger.warn(`Could not restore statement_timeout: ${(err as Error).message}`));
    await runner.release();
  }
}

function executor(ds: DataSource, runner: QueryRunner): MigrationExecutor {
  const ex = new MigrationExecutor(ds, runner);
  ex.transaction = 'each';
  return ex;
}

/** Applies the pending migrations (each in its own transaction) under the migration lock. */
export function runMigrationsLocked(ds: DataSource): Promise<Migration[]> {
  return withMigrationLock(ds, (runner) => executor(ds, runner).executePendingMigrations());
}

/** Reverts the last applied migration under the migration lock. */
export function undoLastMigrationLocked(ds: DataSource): Promise<void> {
  return withMigrationLock(ds, (runner) => executor(ds, runner).undoLastMigration());
}

/** Connects, then applies the pending migrations under the lock; a failed migration closes the pool again. */
export async function initializeMigrated(ds: DataSource): Promise<DataSource> {
  await ds.initialize();
  try {
    const applied = await runMigrationsLocked(ds);
    if (applied.length) logger.log(`Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`);
  } catch (err) {
    // the migration's error is the one to report; a failure to close the pool as well is only logged
    await ds.destroy().catch((closeErr: unknown) => logger.warn(`Could not close the database pool after the failed migration: ${String(closeErr)}`));
    throw err;
  }
  return ds;
}
