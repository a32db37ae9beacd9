import { Client } from 'pg';
import type { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { ADMIN_URL_VAR, TEMPLATE_VAR } from './test-env';

export default async function globalTeardown(): Promise<void> {
  const pg = (globalThis as { __ATLAS_PG__?: EmbeddedPostgres }).__ATLAS_PG__;
  if (pg) {
    await pg.stop();
    return;
  }
  // External server: remove the template we made.
  const client = new Client({ connectionString: process.env[ADMIN_URL_VAR] });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(process.env[TEMPLATE_VAR]!)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
