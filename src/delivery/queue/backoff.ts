/**
 * Retry timing. `schedule` is WEBHOOK_RETRY_SCHEDULE in milliseconds: the delays
 * before attempts 2, 3, …, so an event gets at most schedule.length + 1 attempts.
 */

/** Each delay is spread uniformly over ±20% so that endpoints recovering from an outage are not hit in lockstep. */
export const JITTER = 0.2;

/** Delay before attempt `failedAttempt + 1`, jittered; null when no attempt is left. */
export function retryDelayMs(schedule: number[], failedAttempt: number, random: () => number = Math.random): number | null {
  if (!Number.isInteger(failedAttempt) || failedAttempt < 1 || failedAttempt > schedule.length) return null;
  const base = schedule[failedAttempt - 1];
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

const HTTP_DATE_START = /^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s/i;

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date → milliseconds
 * from `now` (never negative); null when absent or unreadable. Only strings that
 * look like an HTTP-date reach Date.parse, which would otherwise read almost anything.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Math.ceil(Number(text) * 1000);
    return Number.isFinite(ms) ? ms : null;
  }
  if (!HTTP_DATE_START.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}

/**
 * The delay before the next attempt: the jittered schedule delay, but no sooner
 * than the receiver's Retry-After, which is capped at the schedule's longest delay
 * so a receiver cannot push retries out indefinitely. Null when no attempt is left.
 */
export function nextAttemptDelayMs(schedule: number[], failedAttempt: number, retryAfterMs: number | null, random: () => number = Math.random): number | null {
  const delay = retryDelayMs(schedule, failedAttempt, random);
  if (delay === null || retryAfterMs === null) return delay;
  return Math.max(delay, Math.min(retryAfterMs, Math.max(...schedule)));
}
