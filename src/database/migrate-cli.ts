/**
 * `npm run migration:run | migration:revert | migration:generate -- <Name>`.
 * Works on the embedded PostgreSQL too (started for the duration of the
 * command), which the plain TypeORM CLI cannot do.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadEnv } from '../config/load-env';
import { dataSourceOptions } from './data-source-options';
import { resolveDatabase } from './database-url';
import { runMigrationsLocked, undoLastMigrationLocked } from './locked-migrations';

async function generate(ds: DataSource, name: string): Promise<void> {
  const sql = await ds.driver.createSchemaBuilder().log();
  if (sql.upQueries.length === 0) {
    console.log('No changes: the entities match the database schema.');
    return;
  }
  const stamp = Date.now();
  const className = `${name.replace(/[^A-Za-z0-9]/g, '')}${stamp}`;
  const q = (s: string) => '`' + s.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
  const up = sql.upQueries.map((x) => `    await queryRunner.query(${q(x.query)});`).join('\n');
  const down = [...sql.downQueries]
    .reverse()
    .map((x) => `    await queryRunner.query(${q(x.query)});`)
    .join('\n');
  const file = join(__dirname, '..', '..', '..', 'migrations', `${stamp}-${name}.ts`);
  writeFileSync(
    file,
    `import { MigrationInterface, QueryRunner } from 'typeorm';\n\nexport class ${className} implements MigrationInterface {\n  name = '${className}';\n\n  public async up(queryRunner: QueryRunner): Promise<void> {\n${up}\n  }\n\n  public async down(queryRunner: QueryRunner): Promise<void> {\n${down}\n  }\n}\n`,
  );
  console.log(`Wrote ${file}; review it before committing.`);
}

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  if (!['run', 'revert', 'generate', 'show'].includes(command) || (command === 'generate' && !name)) {
    console.error('usage: migrate-cli run | revert | show | generate <Name>');
    process.exit(2);
  }
  const env = loadEnv();
  const db = await resolveDatabase(env);
  const ds = new DataSource(dataSourceOptions(db.url, 2));
  try {
    await ds.initialize();
    if (command === 'run') {
      const done = await runMigrationsLocked(ds);
      console.log(done.length ? `Applied: ${done.map((m) => m.name).join(', ')}` : 'Nothing to apply.');
    } else if (command === 'revert') {
      await undoLastMigrationLocked(ds);
      console.log('Reverted the last migration.');
    } else if (command === 'show') {
      console.log((await ds.showMigrations()) ? 'There are pending migrations.' : 'All migrations are applied.');
    } else {
      await generate(ds, name);
    }
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await db.embedded?.stop();
  }
}

main().catch((err: Error) => {
  console.error(`Migration failed: ${err.message}`);
  process.exit(1);
});
