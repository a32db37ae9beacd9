import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { TypeOrmNestLogger } from './typeorm-logger';

/** PostgreSQL's own limit on every statement of the pool (DB_STATEMENT_TIMEOUT_MS's default). */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * The one TypeORM configuration, shared by the application (`AppModule`), the
 * TypeORM CLI (`ormconfig.ts`), `migrate-cli.ts` and the test set-up.
 * `synchronize` is never on: the schema comes from `migrations/`.
 *
 * `statementTimeoutMs` is sent as the `statement_timeout` connection parameter, so the server
 * cancels a statement that runs longer (a lock wait, a hung plan) and the pool connection is free
 * again, instead of a client-side timer that gives up on a query still running. 0: no limit.
 * Migrations lift it on their own connection (see locked-migrations.ts).
 */
export function dataSourceOptions(url: string, poolSize = 10, statementTimeoutMs = DEFAULT_STATEMENT_TIMEOUT_MS): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: false,
    entities: [join(__dirname, '..', '**', '*.entity.{ts,js}')],
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{ts,js}')],
    migrationsTableName: 'migrations',
    // gen_random_uuid() is built into PostgreSQL 13+: no extension to install.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    migrationsTransactionMode: 'each',
    // pg sends statement_timeout (ms) with the start-up packet of every connection; a falsy value sends nothing
    extra: { max: poolSize, connectionTimeoutMillis: 5000, application_name: 'atlas-webhooks', statement_timeout: statementTimeoutMs },
    logging: ['error', 'warn', 'migration'],
    logger: new TypeOrmNestLogger(),
    maxQueryExecutionTime: 2000,
  };
}
