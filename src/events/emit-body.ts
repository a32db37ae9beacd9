import { AppError } from '../common/app-error';
import { isUuid } from '../common/uuid';

const FIELDS = new Set(['id', 'type', 'data']);

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates the body of `POST /api/events` by hand instead of through the
 * global ValidationPipe: that pipe deletes `__proto__` and `constructor` keys
 * at any depth, which would silently change the event data. The data is only
 * ever read (serialised), never merged into other objects, so those keys are
 * harmless here and are delivered as sent.
 */
export function parseEmitBody(body: unknown): { id?: string; type: string; data: Record<string, unknown> } {
  if (!isJsonObject(body)) throw new AppError('VALIDATION_FAILED', 'The body must be a JSON object {"type": …, "data": {…}}');
  const problems: string[] = [];
  for (const key of Object.keys(body)) if (!FIELDS.has(key)) problems.push(`property ${key} should not exist`);
  const { id, type, data } = body;
  if (id !== undefined && (typeof id !== 'string' || !isUuid(id))) problems.push('id must be a UUID');
  if (typeof type !== 'string') problems.push('type must be a string');
  else if (type.length === 0) problems.push('type must not be empty');
  else if (type.length > 100) problems.push('type must be shorter than or equal to 100 characters');
  if (data !== undefined && !isJsonObject(data)) problems.push('data must be a JSON object');
  if (problems.length) throw new AppError('VALIDATION_FAILED', problems.join('; '), problems);
  const parsed: { id?: string; type: string; data: Record<string, unknown> } = {
    type: type as string,
    data: (data as Record<string, unknown> | undefined) ?? {},
  };
  if (id !== undefined) parsed.id = (id as string).toLowerCase();
  return parsed;
}
