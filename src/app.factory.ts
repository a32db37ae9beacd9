import { INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { installJsonBody } from './common/json-body';
import { createLogger } from './common/logger';
import { installRequestLog, requestId } from './common/request-log';
import { API_SECURITY_HEADERS, installSecurityHeaders } from './common/security-headers';
import { createValidationPipe } from './common/validation';
import { serveConsole } from './console/serve-console';
import { Env } from './config/env.schema';
import { setupSwagger } from './swagger';

/**
 * Builds the configured application: used by main.ts and by every e2e test,
 * so tests exercise exactly what runs in production. NestJS on Fastify: its
 * router and request handling cost the ingest path about half of what
 * Express's did (docs/engine.md, "The HTTP server").
 */
export async function createApp(env: Env, databaseUrl: string): Promise<INestApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: env.BODY_LIMIT_BYTES,
    // X-Forwarded-For is honoured from a reverse proxy on this machine only
    trustProxy: 'loopback',
    genReqId: requestId,
    // path parameters of any length reach the route, which names what is wrong with them (not a 404)
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false, maxParamLength: 65_536 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ env, databaseUrl }), adapter, {
    logger: createLogger(env.LOG_LEVEL, env.NODE_ENV === 'production'),
    bodyParser: false,
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // helmet's headers, worked out once (they do not depend on the request), and the request id on every response
  installSecurityHeaders(fastify, API_SECURITY_HEADERS);
  installRequestLog(fastify, env.LOG_LEVEL);
  // JSON bodies only; malformed, oversized or too deeply nested ones get a 4xx that names the problem
  installJsonBody(fastify, env.BODY_LIMIT_BYTES);
  // the web console (static files from npm run build) at /, under the same headers
  await serveConsole(fastify);
  app.setGlobalPrefix('api', { exclude: [{ path: 'metrics', method: RequestMethod.GET }] });
  app.useGlobalPipes(createValidationPipe());
  setupSwagger(app);
  return app;
}
