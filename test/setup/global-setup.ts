/**
 * Starts one embedded PostgreSQL for the whole run (or uses the server of
 * DATABASE_URL when set), migrates a template database once, and tells the
 * test files where it is. Each test file then copies the template into a
 * database of its own (test/utils/test-app.ts).
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { initializeMigrated } from '../../src/database/locked-migrations';
import { ADMIN_URL_VAR, TEMPLATE_VAR, TEST_DB_PREFIX } from './test-env';
import { freePort } from '../../src/common/free-port';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function globalSetup(): Promise<void> {
  let adminUrl: string;
  if (process.env.DATABASE_URL) {
    adminUrl = withDatabase(process.env.DATABASE_URL, 'postgres');
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'atlas-test-'));
    chmodSync(dir, 0o755); // the OS user postgres must enter it when tests run as root
    const pg = new EmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), fast: true });
    await pg.start();
    (globalThis as { __ATLAS_PG__?: EmbeddedPostgres }).__ATLAS_PG__ = pg;
    adminUrl = pg.url('postgres');
  }
  const template = `${TEST_DB_PREFIX}template_${process.pid}`;
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(template)}`);
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(template)}`);
  } finally {
    await client.end();
  }
  const ds = new DataSource({ ...dataSourceOptions(withDatabase(adminUrl, template), 1), logging: false, logger: 'simple-console' });
  Logger.overrideLogger(['error', 'warn']); // the migration messages stay quiet
  await initializeMigrated(ds);
  await ds.destroy();
  process.env[ADMIN_URL_VAR] = adminUrl;
  process.env[TEMPLATE_VAR] = template;
  delete process.env.DATABASE_URL;
}
