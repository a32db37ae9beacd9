/**
 * One retention pass of the service's own code, timed: the application
 * context of the built service (AppModule, configured from the environment as
 * `npm start` is, with WEBHOOK_WORKER=false so nothing is scheduled or sent),
 * then `RetentionJob.runOnce()` — the very call the hourly schedule makes —
 * and one JSON line on stdout: `{"ms": …, "result": {created, dropped, deletedRows}}`.
 * The scale scenario runs it as a child process (bench/scenarios/scale.ts).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../src/app.module';
import { loadEnv } from '../src/config/load-env';
import { RetentionJob } from '../src/delivery/retention.job';

async function main(): Promise<void> {
  const env = loadEnv();
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  if (env.WEBHOOK_WORKER) throw new Error('run with WEBHOOK_WORKER=false: this process must not deliver or schedule anything');
  const app = await NestFactory.createApplicationContext(AppModule.forRoot({ env, databaseUrl: env.DATABASE_URL }), { logger: ['error', 'warn'] });
  try {
    const job = app.get(RetentionJob);
    const t0 = performance.now();
    const result = await job.runOnce(true);
    const ms = performance.now() - t0;
    process.stdout.write(`${JSON.stringify({ ms: Math.round(ms * 10) / 10, result })}\n`);
  } finally {
    await app.close();
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
