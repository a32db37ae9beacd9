import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueryFailedError } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { AppError, ErrorCode } from './app-error';
import { pathOf } from './request-path';

export interface ErrorBody {
  status_code: number;
  error: string;
  code: string;
  message: string;
  details?: unknown;
  request_id?: string;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
};

/** The fields of a PostgreSQL error that TypeORM copies onto QueryFailedError. */
interface PgErrorFields {
  code?: string;
  table?: string;
  detail?: string;
}

/** "Key (username)=(alice) already exists." → ['username'] (the column names only: values may be secrets). */
function uniqueColumns(detail: string | undefined): string[] {
  const m = /^Key \(([^)]*)\)=/.exec(detail ?? '');
  return m ? m[1].split(',').map((c) => c.trim().replace(/^"|"$/g, '')) : [];
}

/**
 * A unique violation (23505) is a conflict with a row that already exists, most often written by a
 * concurrent request that passed the same "does it exist?" check first: 409, worded as the check's
 * own error where there is one.
 */
function uniqueViolation(e: PgErrorFields): { code: ErrorCode; message: string } {
  const columns = uniqueColumns(e.detail);
  if (e.table === 'users' && columns.join() === 'username') return { code: 'USERNAME_TAKEN', message: 'That username is already taken' };
  const what = e.table === 'users' ? 'user' : e.table === 'webhooks' ? 'webhook' : 'record';
  return { code: 'CONFLICT', message: columns.length ? `A ${what} with the same ${columns.join(', ')} already exists` : `The ${what} already exists` };
}

/** Connection-level failures of PostgreSQL mean "try later", not a bug. */
function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001', '08003'].includes(e?.code ?? '') ||
    /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED/i.test(e?.message ?? '')
  );
}

/** Fastify's message for a body over its limit (FST_ERR_CTP_BODY_TOO_LARGE), which Nest turns into an HttpException. */
const BODY_TOO_LARGE = 'Request body is too large';

/** The one place where errors become HTTP responses. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');
  private readonly bodyLimit: number;

  constructor(config: AppConfig) {
    this.bodyLimit = config.get('BODY_LIMIT_BYTES');
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const req = ctx.getRequest<FastifyRequest>();
    const body = this.toBody(exception, req);
    if (body.status_code >= 500) {
      this.logger.error(`${req.method} ${pathOf(req.url)} failed: ${(exception as Error)?.stack ?? String(exception)}`);
    }
    if (reply.sent) return;
    if (exception instanceof AppError && exception.headers) {
      for (const [k, v] of Object.entries(exception.headers)) void reply.header(k, v);
    }
    void reply.status(body.status_code).send(body);
  }

  private toBody(exception: unknown, req: FastifyRequest): ErrorBody {
    const base = { request_id: req.id };
    // Fastify's own limit, met while it read the body (installJsonBody)
    if (exception instanceof HttpException && exception.getStatus() === 413 && exception.message === BODY_TOO_LARGE) {
      return {
        status_code: 413,
        error: REASONS[413],
        code: 'PAYLOAD_TOO_LARGE',
        message: `Request body is larger than the limit of ${this.bodyLimit} bytes (BODY_LIMIT_BYTES)`,
        ...base,
      };
    }
    if (exception instanceof AppError) {
      return {
        status_code: exception.status,
        error: REASONS[exception.status] ?? 'Error',
        code: exception.code,
        message: exception.message,
        details: exception.details,
        ...base,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse() as string | { message?: string | string[]; code?: string; details?: unknown };
      const raw = typeof response === 'string' ? response : response.message;
      const message = Array.isArray(raw) ? raw.join('; ') : (raw ?? exception.message);
      const code = (typeof response === 'object' && response.code) || HTTP_CODES[status] || 'ERROR';
      const details = typeof response === 'object' ? (response.details ?? (Array.isArray(raw) ? raw : undefined)) : undefined;
      return { status_code: status, error: REASONS[status] ?? 'Error', code, message, details, ...base };
    }
    if (exception instanceof QueryFailedError && (exception as PgErrorFields).code === '23505') {
      const { code, message } = uniqueViolation(exception as PgErrorFields);
      return { status_code: 409, error: REASONS[409], code, message, ...base };
    }
    if (exception instanceof QueryFailedError && (exception as unknown as { code?: string }).code === '22P02') {
      return { status_code: 400, error: REASONS[400], code: 'VALIDATION_FAILED', message: 'A value has the wrong format', ...base };
    }
    if (exception instanceof QueryFailedError && (exception as unknown as { code?: string }).code === '23503') {
      // a foreign key: the webhook or event this request wrote for was deleted while it ran (an operator, retention)
      return {
        status_code: 409,
        error: REASONS[409],
        code: 'CONFLICT',
        message: 'A webhook or event this request refers to was deleted while it ran',
        ...base,
      };
    }
    if (isDatabaseDown(exception)) {
      return {
        status_code: HttpStatus.SERVICE_UNAVAILABLE,
        error: REASONS[503],
        code: 'DATABASE_UNAVAILABLE',
        message: 'The database is unavailable; try again shortly',
        ...base,
      };
    }
    return { status_code: 500, error: REASONS[500], code: 'INTERNAL_ERROR', message: 'Internal server error', ...base };
  }
}
