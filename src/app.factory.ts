import { INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { AppModule } from './app.module';
import { createLogger } from './common/logger';
import { createValidationPipe } from './common/validation';
import { Env } from './config/env.schema';
import { setupSwagger } from './swagger';

/**
 * Builds the configured application: used by main.ts and by every e2e test,
 * so tests exercise exactly what runs in production.
 */
export async function createApp(env: Env, databaseUrl: string): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ env, databaseUrl }), {
    logger: createLogger(env.LOG_LEVEL, env.NODE_ENV === 'production'),
    bodyParser: false,
    abortOnError: false,
  });
  app.set('trust proxy', 'loopback');
  app.set('x-powered-by', false);
  app.useBodyParser('json', { limit: env.BODY_LIMIT_BYTES, strict: false, type: ['application/json', 'application/*+json'] });
  app.use(helmet({ contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:'], upgradeInsecureRequests: null } } }));
  app.setGlobalPrefix('api', { exclude: [{ path: 'metrics', method: RequestMethod.GET }] });
  app.useGlobalPipes(createValidationPipe());
  setupSwagger(app);
  return app;
}
