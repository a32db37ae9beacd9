import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { Env } from '../config/env.schema';
import { EmbeddedPostgres } from './embedded-postgres';

export const EMBEDDED_DATABASE = 'atlas';

export interface ResolvedDatabase {
  url: string;
  /** Set when this process started the server and must stop it. */
  embedded?: EmbeddedPostgres;
}

/** `DATABASE_URL` when set; otherwise starts the embedded PostgreSQL under `DATA_DIR`. */
export async function resolveDatabase(env: Env, onLog?: (line: string) => void): Promise<ResolvedDatabase> {
  if (env.DATABASE_URL) {
    await assertReachable(env.DATABASE_URL);
    return { url: env.DATABASE_URL };
  }
  const embedded = new EmbeddedPostgres({ dataDir: join(resolve(env.DATA_DIR), 'pg'), port: env.EMBEDDED_PG_PORT, onLog });
  await embedded.start();
  try {
    if (!(await embedded.databaseExists(EMBEDDED_DATABASE))) await embedded.createDatabase(EMBEDDED_DATABASE);
  } catch (err) {
    await embedded.stop();
    throw err;
  }
  return { url: embedded.url(EMBEDDED_DATABASE), embedded };
}

/** Connects once, so an unreachable database is reported in one line before anything else starts. */
async function assertReachable(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } finally {
    // after a failed connect there is nothing to close cleanly; the connect error above is the one to report
    await client.end().catch(() => undefined);
  }
}
