import { VerifiedTokenCache } from '../../src/auth/verified-token-cache';

describe('VerifiedTokenCache', () => {
  const now = 1_700_000_000_000;
  const exp = now / 1000 + 60;

  it('returns a cached payload until the second of its exp', () => {
    const cache = new VerifiedTokenCache<{ sub: string; exp?: number; nbf?: number }>();
    cache.set('t', { sub: 'a', exp }, now);
    expect(cache.get('t', now)).toEqual({ sub: 'a', exp });
    expect(cache.get('t', exp * 1000 - 1)).toEqual({ sub: 'a', exp });
    expect(cache.get('t', exp * 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never caches tokens without a numeric exp, with nbf, or already expired', () => {
    const cache = new VerifiedTokenCache<{ exp?: unknown; nbf?: unknown }>();
    cache.set('a', {}, now);
    cache.set('b', { exp: String(exp) }, now);
    cache.set('c', { exp, nbf: now / 1000 }, now);
    cache.set('d', { exp: now / 1000 }, now);
    expect(cache.size).toBe(0);
    expect(cache.get('a', now)).toBeUndefined();
  });

  it('is bounded: a full cache starts over', () => {
    const cache = new VerifiedTokenCache<{ exp?: number }>(2);
    cache.set('a', { exp }, now);
    cache.set('b', { exp }, now);
    cache.set('c', { exp }, now);
    expect(cache.size).toBe(1);
    expect(cache.get('a', now)).toBeUndefined();
    expect(cache.get('c', now)).toEqual({ exp });
  });
});
