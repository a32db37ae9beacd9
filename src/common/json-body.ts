import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from './app-error';

/** Deeper request bodies are refused before validation walks them (recursively: a deep body would overflow the stack, a 500). */
export const MAX_BODY_DEPTH = 100;

const JSON_TYPES = ['application/json', 'application/*+json'];

/** Whether a Content-Type header names JSON (`application/json`, `application/<x>+json`, any parameters). */
export function isJsonContentType(header: string | undefined): boolean {
  const type = (header ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[^/\s]+\+json$/.test(type);
}

/** Whether a parsed JSON value nests objects/arrays more than `max` levels deep (iterative: safe at any depth). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth > max) return true;
    const children = Array.isArray(item.value) ? item.value : Object.values(item.value as Record<string, unknown>);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}

function hasContent(req: Request): boolean {
  const length = Number(req.headers['content-length']);
  return req.headers['transfer-encoding'] !== undefined || (Number.isFinite(length) && length > 0);
}

/**
 * Installs the API's JSON body parsing. Every problem becomes a 4xx that says
 * what is wrong, instead of a body silently ignored or a 500: a body that is
 * not JSON (415), malformed JSON, a body over BODY_LIMIT_BYTES (413), nesting
 * deeper than MAX_BODY_DEPTH levels. Top-level primitives are parsed (strict
 * off) so that routes can answer "must be a JSON object" themselves.
 */
export function installJsonBody(app: NestExpressApplication, limitBytes: number): void {
  app.use((req: Request, _res: Response, next: NextFunction) => {
    if (!hasContent(req) || isJsonContentType(req.headers['content-type'])) return next();
    const given = req.headers['content-type'] ? `"${String(req.headers['content-type']).slice(0, 100)}"` : 'none';
    next(new AppError('UNSUPPORTED_MEDIA_TYPE', `The request body must be JSON: send Content-Type: application/json (got ${given})`));
  });
  app.useBodyParser('json', { limit: limitBytes, strict: false, type: JSON_TYPES });
  // body-parser's errors, named here (Nest would turn a SyntaxError into a bare "Unexpected token …")
  app.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => {
    const e = err as { type?: string; message?: string };
    if (e?.type === 'entity.parse.failed') return next(new AppError('MALFORMED_JSON', `Request body is not valid JSON: ${e.message}`));
    if (e?.type === 'entity.too.large')
      return next(new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than the limit of ${limitBytes} bytes (BODY_LIMIT_BYTES)`));
    next(err);
  });
  app.use((req: Request, _res: Response, next: NextFunction) => {
    if (nestedDeeperThan(req.body, MAX_BODY_DEPTH))
      return next(new AppError('VALIDATION_FAILED', `Request body is nested deeper than ${MAX_BODY_DEPTH} levels`));
    next();
  });
}
