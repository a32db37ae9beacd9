import { createHash } from 'node:crypto';
import { AppError } from '../common/app-error';

/** Longest accepted Idempotency-Key. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** The response header that marks a replayed emit. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** Checks an Idempotency-Key (1–255 printable ASCII characters) and returns it; undefined when absent. */
export function parseIdempotencyKey(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be given once');
  if (typeof raw !== 'string' || raw.length === 0) throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must not be empty');
  if (raw.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new AppError('VALIDATION_FAILED', `Idempotency-Key must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, got ${raw.length}`);
  }
  if (!/^[\x20-\x7e]+$/.test(raw)) throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be printable ASCII');
  return raw;
}

/** The rows an emit claims in event_idempotency_keys: its key and/or its client-supplied id (namespaced so they never collide). */
export function claimKeys(idempotencyKey: string | undefined, clientId: string | undefined): string[] {
  const keys: string[] = [];
  if (idempotencyKey !== undefined) keys.push(`key:${idempotencyKey}`);
  if (clientId !== undefined) keys.push(`id:${clientId}`);
  return keys;
}

/** What two requests must share to be "the same request": the type, the canonical data text and the client's id. */
export function requestHash(type: string, payloadText: string, clientId: string | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify([type, payloadText, clientId ?? null]))
    .digest('hex');
}
