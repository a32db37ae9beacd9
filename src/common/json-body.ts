import type { FastifyInstance } from 'fastify';
import { AppError } from './app-error';

/** Deeper request bodies are refused before validation walks them (recursively: a deep body would overflow the stack, a 500). */
export const MAX_BODY_DEPTH = 100;

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

/**
 * Installs the API's JSON body parsing. Every problem becomes a 4xx that says
 * what is wrong, instead of a body silently ignored or a 500: a body that is
 * not JSON (415), malformed JSON, a body over BODY_LIMIT_BYTES (413, by
 * Fastify while reading: AllExceptionsFilter words it), nesting deeper than
 * MAX_BODY_DEPTH levels. Top-level primitives are parsed so that routes can
 * answer "must be a JSON object" themselves.
 */
export function installJsonBody(fastify: FastifyInstance, limitBytes: number): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'string', bodyLimit: limitBytes }, (req, body, done) => {
    const header = req.headers['content-type'];
    const text = body as string;
    // no content: nothing to refuse or parse (an empty JSON body reads as {}, as body-parser had it)
    if (text.length === 0) return done(null, isJsonContentType(header) ? {} : undefined);
    if (!isJsonContentType(header)) {
      const given = header ? `"${String(header).slice(0, 100)}"` : 'none';
      return done(new AppError('UNSUPPORTED_MEDIA_TYPE', `The request body must be JSON: send Content-Type: application/json (got ${given})`));
    }
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      return done(
        new AppError(
          'UNSUPPORTED_MEDIA_TYPE',
          `Compressed request bodies are not accepted (Content-Encoding: ${encoding.slice(0, 50)}): send the JSON uncompressed`,
        ),
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return done(new AppError('MALFORMED_JSON', `Request body is not valid JSON: ${(err as Error).message}`));
    }
    if (nestedDeeperThan(value, MAX_BODY_DEPTH)) return done(new AppError('VALIDATION_FAILED', `Request body is nested deeper than ${MAX_BODY_DEPTH} levels`));
    done(null, value);
  });
}
