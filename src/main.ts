import 'reflect-metadata';
import { INestApplication, Logger } from '@nestjs/common';
import { createServer } from 'node:net';
import { createApp } from './app.factory';
import { createLogger } from './common/logger';
import { ConfigValidationError, Env } from './config/env.schema';
import { loadEnv } from './config/load-env';
import { resolveDatabase, ResolvedDatabase } from './database/database-url';
import { EmbeddedPostgresError } from './database/embedded-postgres';

const logger = new Logger('Main');

/** Fails fast (before PostgreSQL starts) when the HTTP port is taken. */
async function assertPortFree(port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** One line naming the cause, instead of a stack trace, for the failures a user can fix. */
function explain(err: unknown, env?: Env): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (err instanceof ConfigValidationError || err instanceof EmbeddedPostgresError) return err.message;
  if (e?.code === 'EADDRINUSE') return `Port ${env?.PORT} is already in use: stop what listens there or set PORT to a free port.`;
  if (e?.code === 'EACCES' && e.syscall === 'listen') return `Not allowed to listen on port ${env?.PORT}: choose a port above 1023 with PORT.`;
  if (
    e?.code === 'ECONNREFUSED' ||
    e?.code === 'ENOTFOUND' ||
    e?.code === 'ETIMEDOUT' ||
    /connect|password authentication|does not exist/i.test(e?.message ?? '')
  ) {
    return `Cannot reach the database${env?.DATABASE_URL ? ' at DATABASE_URL' : ''}: ${e.message}`;
  }
  return `Start-up failed: ${e?.stack ?? String(err)}`;
}

async function bootstrap(): Promise<void> {
  let env: Env | undefined;
  let db: ResolvedDatabase | undefined;
  let app: INestApplication | undefined;
  Logger.overrideLogger(createLogger('log', process.env.NODE_ENV === 'production'));
  try {
    env = loadEnv();
    Logger.overrideLogger(createLogger(env.LOG_LEVEL, env.NODE_ENV === 'production'));
    if (env.PORT !== 0) await assertPortFree(env.PORT, env.HOST);
    if (!env.DATABASE_URL) logger.log(`Starting the embedded PostgreSQL in ${env.DATA_DIR} (port ${env.EMBEDDED_PG_PORT})`);
    db = await resolveDatabase(env);
    const embedded = db.embedded;
    app = await createApp(env, db.url);
    if (embedded) process.once('exit', () => void embedded.stop());
    const running = app;
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.log(`${signal} received: finishing in-flight work and shutting down`);
      let code = 0;
      try {
        await running.close(); // module destroy / shutdown hooks: deliveries drain, pool closes
      } catch (err) {
        logger.error(`Shutdown error: ${(err as Error).message}`);
        code = 1;
      }
      if (embedded) {
        try {
          await embedded.stop();
          logger.log('Embedded PostgreSQL stopped');
        } catch (err) {
          logger.error(`Stopping the embedded PostgreSQL failed: ${(err as Error).message}`);
          code = 1;
        }
      }
      process.exit(code);
    };
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
    await app.listen(env.PORT, env.HOST);
    logger.log(`ATLAS Webhooks listening on http://localhost:${env.PORT} (Swagger UI on /docs)`);
  } catch (err) {
    logger.error(explain(err, env));
    // the start-up error above is the one that matters; failures while cleaning up after it are logged, then we exit
    await app?.close().catch((closeErr: unknown) => logger.warn(`Closing the half-started application failed: ${String(closeErr)}`));
    await db?.embedded?.stop().catch((stopErr: unknown) => logger.warn(`Stopping the embedded PostgreSQL failed: ${String(stopErr)}`));
    process.exit(1);
  }
}

void bootstrap();
