import ms, { StringValue } from 'ms';

/**
 * "1500", "1500ms", "5s", "1.5s", "5m", "2h", "1d" → milliseconds, parsed by `ms` (which also reads
 * "5 min", "2 hours", "1w"). A plain number is milliseconds. Negative durations are refused.
 */
export function parseDurationMs(raw: string): number {
  const text = raw.trim();
  const value = text === '' ? undefined : ms(text as StringValue);
  if (value === undefined || Number.isNaN(value) || value < 0) throw new Error(`must be a duration like 500ms, 5s, 5m, 2h or 1d, got "${raw}"`);
  const rounded = Math.round(value);
  if (!Number.isSafeInteger(rounded)) throw new Error(`is out of range: "${raw}"`);
  return rounded;
}

/** "5s,5m,30m" → [5000, 300000, 1800000]; an empty list is allowed (one attempt only). */
export function parseDurationList(raw: string): number[] {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length > 50) throw new Error('may list at most 50 delays');
  return parts.map(parseDurationMs);
}
