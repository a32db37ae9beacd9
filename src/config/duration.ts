const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1500", "1500ms", "5s", "5m", "2h", "1d" → milliseconds. */
export function parseDurationMs(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new Error(`must be a duration like 500ms, 5s, 5m, 2h or 1d, got "${raw}"`);
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']);
  if (!Number.isFinite(ms)) throw new Error(`is out of range: "${raw}"`);
  return ms;
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
