import { nextAttemptDelayMs, parseRetryAfter, retryDelayMs } from '../../src/delivery/queue/backoff';
import { seededRandom } from '../../scripts/seeded-random';

const SCHEDULE = [5_000, 300_000, 1_800_000, 7_200_000]; // 5s, 5m, 30m, 2h: 5 attempts in all

describe('retryDelayMs', () => {
  it('uses the schedule entry of the failed attempt, jittered by the random value', () => {
    expect(retryDelayMs(SCHEDULE, 1, () => 0.5)).toBe(5_000);
    expect(retryDelayMs(SCHEDULE, 1, () => 0)).toBe(4_000);
    expect(retryDelayMs(SCHEDULE, 1, () => 0.999999)).toBe(6_000);
    expect(retryDelayMs(SCHEDULE, 2, () => 0.25)).toBe(270_000);
    expect(retryDelayMs(SCHEDULE, 4, () => 0.75)).toBe(7_920_000);
  });

  it('stays within ±20% and spreads over the whole range', () => {
    const random = seededRandom(7);
    const samples = Array.from({ length: 5000 }, () => retryDelayMs(SCHEDULE, 3, random)!);
    const min = Math.min(...samples);
    const max = Math.max(...samples);
    expect(min).toBeGreaterThanOrEqual(1_440_000);
    expect(max).toBeLessThanOrEqual(2_160_000);
    expect(min).toBeLessThan(1_450_000);
    expect(max).toBeGreaterThan(2_150_000);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(Math.abs(mean - 1_800_000)).toBeLessThan(10_000);
  });

  it('returns null once the schedule is exhausted (attempts = schedule length + 1)', () => {
    expect(retryDelayMs(SCHEDULE, 4, () => 0.5)).not.toBeNull();
    expect(retryDelayMs(SCHEDULE, 5, () => 0.5)).toBeNull();
    expect(retryDelayMs([], 1, () => 0.5)).toBeNull();
    expect(retryDelayMs(SCHEDULE, 0, () => 0.5)).toBeNull();
  });

  it('uses Math.random by default', () => {
    const d = retryDelayMs([1000], 1)!;
    expect(d).toBeGreaterThanOrEqual(800);
    expect(d).toBeLessThanOrEqual(1200);
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2024-06-11T10:00:00.000Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1_500);
  });

  it('reads an HTTP-date, in the past as 0', () => {
    expect(parseRetryAfter('Tue, 11 Jun 2024 10:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Tuesday, 11-Jun-24 10:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('Mon, 10 Jun 2024 10:00:00 GMT', now)).toBe(0);
  });

  it('returns null for absent, empty, negative or garbage values', () => {
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('10s', now)).toBeNull();
    expect(parseRetryAfter('1 2', now)).toBeNull();
    expect(parseRetryAfter('Mon, 99 Foo 2024 99:99:99 GMT', now)).toBeNull();
  });
});

describe('nextAttemptDelayMs', () => {
  it('is the jittered delay when there is no Retry-After, or a shorter one', () => {
    expect(nextAttemptDelayMs(SCHEDULE, 1, null, () => 0.5)).toBe(5_000);
    expect(nextAttemptDelayMs(SCHEDULE, 1, 1_000, () => 0.5)).toBe(5_000);
  });

  it('waits at least Retry-After, capped at the longest scheduled delay', () => {
    expect(nextAttemptDelayMs(SCHEDULE, 1, 60_000, () => 0.5)).toBe(60_000);
    expect(nextAttemptDelayMs(SCHEDULE, 1, 30 * 86_400_000, () => 0.5)).toBe(7_200_000);
  });

  it('is null when the schedule is exhausted, whatever Retry-After says', () => {
    expect(nextAttemptDelayMs(SCHEDULE, 5, 1_000, () => 0.5)).toBeNull();
    expect(nextAttemptDelayMs([], 1, 1_000, () => 0.5)).toBeNull();
  });
});
