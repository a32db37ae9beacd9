import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { LogLevelName } from '../config/env.schema';
import { logLevelsFrom } from './logger';
import { pathOf } from './request-path';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The request's id: the caller's X-Request-Id when it is a plain token, else a new UUID (Fastify's `genReqId`). */
export function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Every response carries its request's id (X-Request-Id), and one structured
 * line per request is logged: method, path (no query string: it may carry
 * tokens), status, duration, request id. Never headers or bodies. Below
 * LOG_LEVEL=debug only server errors are logged.
 */
export function installRequestLog(fastify: FastifyInstance, level: LogLevelName): void {
  const logger = new Logger('HTTP');
  const logsDebug = logLevelsFrom(level).includes('debug');
  fastify.addHook('onRequest', (req, reply, done) => {
    void reply.header('X-Request-Id', req.id);
    done();
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    if (reply.statusCode >= 500 || logsDebug) {
      const line = `${req.method} ${pathOf(req.url)} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms request_id=${req.id}`;
      if (reply.statusCode >= 500) logger.error(line);
      else logger.debug(line);
    }
    done();
  });
}
