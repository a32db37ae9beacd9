import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ADMIN_URL_VAR, TEMPLATE_VAR, TEST_DB_PREFIX } from '../setup/test-env';

function adminUrl(): string {
  const url = process.env[ADMIN_URL_VAR];
  if (!url) throw new Error('The e2e global set-up did not run (run the e2e tests through jest).');
  return url;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  drop: () => Promise<void>;
}

/** A fresh, migrated database of its own for one test file. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createDatabase(process.env[TEMPLATE_VAR]!);
}

/** A database with no tables at all (copied from template0), as a first start finds it. */
export function createEmptyDatabase(): Promise<TestDatabase> {
  return createDatabase('template0');
}

async function createDatabase(template: string): Promise<TestDatabase> {
  const name = `${TEST_DB_PREFIX}${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)} TEMPLATE ${c.escapeIdentifier(template)}`));
  const u = new URL(adminUrl());
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`)).then(() => undefined),
  };
}
