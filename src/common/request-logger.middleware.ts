import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { LogLevelName } from '../config/env.schema';
import { logLevelsFrom } from './logger';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * One structured line per request: method, path (no query string: it may carry
 * tokens), status, duration, request id. Never headers or bodies.
 */
@Injectable()
export class RequestLoggerMiddleware implements NestMiddleware {
  private readonly logger = new Logger('HTTP');
  private readonly logsDebug: boolean;

  constructor(level: LogLevelName) {
    this.logsDebug = logLevelsFrom(level).includes('debug');
  }

  use(req: Request & { id?: string }, res: Response, next: NextFunction): void {
    const given = req.header('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // below LOG_LEVEL=debug only server errors are logged: no line to build for the rest
      if (res.statusCode < 500 && !this.logsDebug) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = `${req.method} ${req.path} ${res.statusCode} ${ms.toFixed(1)}ms request_id=${id}`;
      if (res.statusCode >= 500) this.logger.error(line);
      else this.logger.debug(line);
    });
    next();
  }
}
