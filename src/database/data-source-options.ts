import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { TypeOrmNestLogger } from './typeorm-logger';

/**
 * The one TypeORM configuration, shared by the application (`AppModule`), the
 * TypeORM CLI (`ormconfig.ts`), `migrate-cli.ts` and the test set-up.
 * `synchronize` is never on: the schema comes from `migrations/`.
 */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
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
    extra: { max: poolSize, connectionTimeoutMillis: 5000, application_name: 'atlas-webhooks' },
    logging: ['error', 'warn', 'migration'],
    logger: new TypeOrmNestLogger(),
    maxQueryExecutionTime: 2000,
  };
}
