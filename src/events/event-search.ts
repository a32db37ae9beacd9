/**
 * The pieces of `GET /api/events` searches that are pure logic: the opaque
 * cursor (keyset on created_at, id) and the `data.<field>=value` filters.
 */
import { AppError } from '../common/app-error';
import { isUuid } from '../common/uuid';

export const DATA_PREFIX = 'data.';
export const MAX_DATA_FILTERS = 5;
const MAX_PATH_DEPTH = 5;
const MAX_VALUE_LENGTH = 500;
const CURSOR_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

/** The position after the last event of a page: its created_at (microseconds, UTC) and id. */
export interface EventCursor {
  at: string;
  id: string;
}

export function encodeCursor(c: EventCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id]), 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): EventCursor {
  const bad = () => new AppError('VALIDATION_FAILED', 'cursor is not valid: pass the next_cursor of a previous page unchanged');
  if (raw.length > 200 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw bad();
  const [at, id] = parsed as unknown[];
  if (typeof at !== 'string' || !CURSOR_TIME.test(at) || Number.isNaN(Date.parse(at)) || typeof id !== 'string' || !isUuid(id)) throw bad();
  return { at, id: id.toLowerCase() };
}

/** One `data.<path>=<value>` filter: the JSON documents, any of which the payload must contain. */
export interface DataFilter {
  field: string;
  /** Containment candidates: the value as a string, and as a number / boolean / null when it reads as one. */
  contains: Array<Record<string, unknown>>;
}

function nest(path: string[], value: unknown): Record<string, unknown> {
  let out: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) out = { [path[i]]: out };
  return out as Record<string, unknown>;
}

/**
 * Splits the query into the `data.*` filters and the rest. `data.service=nginx`
 * matches payloads whose `service` is "nginx"; `data.a.b=1` nested fields, the
 * string "1" or the number 1. Exact match only.
 */
export function splitDataFilters(query: Record<string, unknown>): { rest: Record<string, unknown>; filters: DataFilter[] } {
  const rest: Record<string, unknown> = {};
  const filters: DataFilter[] = [];
  for (const [key, raw] of Object.entries(query)) {
    if (!key.startsWith(DATA_PREFIX)) {
      rest[key] = raw;
      continue;
    }
    const field = key.slice(DATA_PREFIX.length);
    const path = field.split('.');
    if (field === '' || path.some((p) => p === ''))
      throw new AppError('VALIDATION_FAILED', `${key.slice(0, 100)}: name a field of the data, e.g. data.service=nginx`);
    if (path.length > MAX_PATH_DEPTH) throw new AppError('VALIDATION_FAILED', `${key.slice(0, 100)}: at most ${MAX_PATH_DEPTH} levels deep`);
    if (typeof raw !== 'string') throw new AppError('VALIDATION_FAILED', `${key.slice(0, 100)} must be given once, as one value`);
    if (raw.length > MAX_VALUE_LENGTH) throw new AppError('VALIDATION_FAILED', `${key.slice(0, 100)} must be at most ${MAX_VALUE_LENGTH} characters`);
    const contains = [nest(path, raw)];
    if (/^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(raw)) contains.push(nest(path, JSON.parse(raw)));
    filters.push({ field, contains });
  }
  if (filters.length > MAX_DATA_FILTERS) throw new AppError('VALIDATION_FAILED', `At most ${MAX_DATA_FILTERS} data.<field> filters, got ${filters.length}`);
  return { rest, filters };
}
