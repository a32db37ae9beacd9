/**
 * Data source for the plain TypeORM CLI against an external database, e.g.
 *   DATABASE_URL=postgres://… npx typeorm-ts-node-commonjs -d ormconfig.ts migration:show
 * `npm run migration:*` (src/database/migrate-cli.ts) also handles the embedded server.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './src/database/data-source-options';

if (!process.env.DATABASE_URL) {
  throw new Error('ormconfig.ts needs DATABASE_URL; use "npm run migration:run" for the embedded PostgreSQL.');
}

export default new DataSource(dataSourceOptions(process.env.DATABASE_URL));
