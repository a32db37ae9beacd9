import { INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { installJsonBody } from './common/json-body';
import { createLogger } from './common/logger';
import { RequestLoggerMiddleware } from './common/request-logger.middleware';
import { securityHeaders } from './common/security-headers';
import { createValidationPipe } from './common/validation';
import { serveConsole } from './console/serve-console';
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
  // first, so that every response (a 413 or a 415 from the body parsing too) carries its request id and is logged
  const requestLogger = new RequestLoggerMiddleware(env.LOG_LEVEL);
  app.use(requestLogger.use.bind(requestLogger));
  // JSON bodies only; malformed, oversized or too deeply nested ones get a 4xx that names the problem
  installJsonBody(app, env.BODY_LIMIT_BYTES);
  // helmet's headers, worked out once (they do not depend on the request)
  app.use(securityHeaders({ contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:'], upgradeInsecureRequests: null } } }));
  // the web console (static files from npm run build) at / — after helmet, so the same CSP covers it; before the routes
  serveConsole(app);
  app.setGlobalPrefix('api', { exclude: [{ path: 'metrics', method: RequestMethod.GET }] });
  app.useGlobalPipes(createValidationPipe());
  setupSwagger(app);
  return app;
}
