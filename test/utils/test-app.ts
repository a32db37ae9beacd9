import { INestApplication } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../../src/app.factory';
import { Env, parseEnv } from '../../src/config/env.schema';
import { createTestDatabase, TestDatabase } from './test-database';

export interface TestApp {
  app: INestApplication;
  /** Base URL of the app listening on loopback, e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  env: Env;
  databaseUrl: string;
  http: () => ReturnType<typeof request>;
  /** Logs in and returns the access token. */
  login: (username?: string, password?: string) => Promise<string>;
  close: () => Promise<void>;
}

/** Settings every e2e test starts from; a test passes overrides for what it exercises. */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'error',
  JWT_SECRET: 'test-secret-that-is-at-least-32-characters-long',
  ADMIN_USERNAME: 'admin',
  ADMIN_PASSWORD: 'admin123',
  LOGIN_RATE_LIMIT: '1000',
  WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
  WEBHOOK_SWEEP_INTERVAL_MS: '200ms',
};

/** The real application on a database of its own (or the one given, which close() drops), listening on a free loopback port. */
export async function createTestApp(overrides: Record<string, string> = {}, database?: TestDatabase): Promise<TestApp> {
  const db = database ?? (await createTestDatabase());
  const env = parseEnv({ ...TEST_ENV, DATA_DIR: mkdtempSync(join(tmpdir(), 'atlas-data-')), ...overrides });
  const app = await createApp(env, db.url);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const http = () => request(app.getHttpServer());
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    env,
    databaseUrl: db.url,
    http,
    login: async (username = 'admin', password = 'admin123') => {
      const res = await http().post('/api/auth/login').send({ username, password }).expect(200);
      return res.body.access_token as string;
    },
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}
