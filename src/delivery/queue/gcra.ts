/**
 * The rate limit's arithmetic (GCRA, the generic cell rate algorithm): the
 * state is one instant, the theoretical arrival time `nextAt`, by which the
 * deliveries granted so far would have gone out at exactly the limit. A
 * delivery may start now if `nextAt` is at most a burst tolerance ahead of
 * now; each one granted moves `nextAt` on by one interval.
 *
 * The burst tolerance is a tenth of a second's worth of deliveries (none
 * below 10/s), so over any 5-second window at most rate × 5 + rate / 10 + 1
 * deliveries are claimed: within 10 % of the limit from 3/s up (at 20/s, 103
 * in 5 s), leaving the rest of the 10 % for the jitter between a claim and
 * the request reaching the endpoint.
 */

/** How many deliveries beyond the first may start at once after a quiet spell. */
export function burstOf(ratePerSecond: number): number {
  return Math.floor(ratePerSecond / 10);
}

/** Milliseconds between deliveries at the limit. */
export function intervalMs(ratePerSecond: number): number {
  return 1000 / ratePerSecond;
}

/** How many deliveries may start at `nowMs` (the database's clock), given the stored `nextAtMs`. */
export function grantable(nextAtMs: number, nowMs: number, ratePerSecond: number): number {
  const t = intervalMs(ratePerSecond);
  const ahead = Math.max(nextAtMs, nowMs) - nowMs;
  const tolerance = burstOf(ratePerSecond) * t;
  // a microsecond's slack: next_at comes back from PostgreSQL rounded to the millisecond
  return Math.max(0, Math.floor((tolerance - ahead) / t + 1e-6) + 1);
}

/** Milliseconds from `nowMs` until one more delivery may start (0: now). */
export function waitForNext(nextAtMs: number, nowMs: number, ratePerSecond: number): number {
  const tolerance = burstOf(ratePerSecond) * intervalMs(ratePerSecond);
  return Math.max(0, nextAtMs - tolerance - nowMs);
}

/** `nextAt` after granting `n` deliveries at `nowMs`. */
export function advance(nextAtMs: number, nowMs: number, ratePerSecond: number, n: number): number {
  return Math.max(nextAtMs, nowMs) + n * intervalMs(ratePerSecond);
}
