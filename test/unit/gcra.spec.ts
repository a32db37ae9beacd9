import { advance, burstOf, grantable, waitForNext } from '../../src/delivery/queue/gcra';

/** Grants as a greedy claimer would, asking at the given instants; returns the instants of every delivery granted. */
function simulate(rate: number, askAt: number[], wantEach = Infinity): number[] {
  let nextAt = 0;
  const granted: number[] = [];
  for (const now of askAt) {
    const n = Math.min(wantEach, grantable(nextAt, now, rate));
    for (let i = 0; i < n; i++) granted.push(now);
    nextAt = advance(nextAt, now, rate, n);
  }
  return granted;
}

function maxInWindow(instants: number[], windowMs: number): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < instants.length; i++) {
    while (instants[i] - instants[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('rate limit arithmetic (GCRA)', () => {
  it('after a quiet spell lets the burst plus one go at once, then one per interval', () => {
    expect(burstOf(20)).toBe(2);
    expect(grantable(0, 10_000, 20)).toBe(3);
    const after = advance(0, 10_000, 20, 3);
    expect(after).toBe(10_000 + 3 * 50);
    expect(grantable(after, 10_000, 20)).toBe(0);
    expect(waitForNext(after, 10_000, 20)).toBe(50);
    expect(grantable(after, 10_049, 20)).toBe(0);
    expect(grantable(after, 10_050, 20)).toBe(1);
  });

  it.each([
    [20, 10],
    [20, 50],
    [100, 7],
    [8, 33],
    [1000, 50],
  ])('at %i/s, asked every %i ms, stays within 10 %% over any 5-second window', (rate, everyMs) => {
    const asks = Array.from({ length: Math.ceil(30_000 / everyMs) }, (_, i) => i * everyMs);
    const granted = simulate(rate, asks);
    expect(maxInWindow(granted, 5000)).toBeLessThanOrEqual(Math.floor(rate * 5 * 1.1));
    expect(granted.length).toBeGreaterThan(rate * 30 * 0.8);
  });

  it.each([3, 8, 20, 250])('at %i/s, asking again when waitForNext says (as the paced lane does, a few ms late), the limit is used, not wasted', (rate) => {
    let nextAt = 0;
    let now = 0;
    const granted: number[] = [];
    let late = 0;
    while (now < 30_000) {
      const n = grantable(nextAt, now, rate);
      for (let i = 0; i < n; i++) granted.push(now);
      nextAt = advance(nextAt, now, rate, n);
      late = (late + 3) % 7; // 0–6 ms late
      now += Math.max(1, waitForNext(nextAt, now, rate)) + late;
    }
    expect(granted.length).toBeGreaterThanOrEqual(Math.floor(rate * 30 * 0.95));
    expect(maxInWindow(granted, 5000)).toBeLessThanOrEqual(rate * 5 + burstOf(rate) + 1);
  });

  it('asking at irregular instants (jittered ticks, two instances) never exceeds the window bound', () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const asks: number[] = [];
    for (let t = 0; t < 60_000; t += 1 + Math.floor(random() * 120)) asks.push(t);
    const rate = 20;
    const granted = simulate(rate, asks, 3);
    expect(maxInWindow(granted, 5000)).toBeLessThanOrEqual(rate * 5 + burstOf(rate) + 1);
  });

  it('grants nothing while the next slot is more than the burst ahead', () => {
    expect(grantable(1000 + 2 * 50 + 1, 1000, 20)).toBe(0);
    expect(grantable(1000 + 2 * 50, 1000, 20)).toBe(1);
  });
});
