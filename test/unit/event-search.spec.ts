import { decodeCursor, encodeCursor, splitDataFilters } from '../../src/events/event-search';

describe('event search cursor', () => {
  it('round-trips a position and is opaque (base64url)', () => {
    const c = { at: '2026-12-03T10:00:00.123456Z', id: '0b6a3f0e-2a3c-4d1e-9f57-3c2b1a0d9e8f' };
    const text = encodeCursor(c);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(c);
  });

  it.each([
    ['garbage', 'nope!'],
    ['not JSON', Buffer.from('hello').toString('base64url')],
    ['a millisecond time', Buffer.from(JSON.stringify(['2026-12-03T10:00:00.123Z', '0b6a3f0e-2a3c-4d1e-9f57-3c2b1a0d9e8f'])).toString('base64url')],
    ['no uuid', Buffer.from(JSON.stringify(['2026-12-03T10:00:00.123456Z', 'x'])).toString('base64url')],
  ])('refuses %s', (_what, raw) => {
    expect(() => decodeCursor(raw)).toThrow(/cursor is not valid/);
  });
});

describe('splitDataFilters', () => {
  it('takes data.* out of the query, nested paths as nested objects', () => {
    const { rest, filters } = splitDataFilters({ type: 'service.started', 'data.service': 'nginx', 'data.meta.node': 'edge-1' });
    expect(rest).toEqual({ type: 'service.started' });
    expect(filters).toEqual([
      { field: 'service', contains: [{ service: 'nginx' }] },
      { field: 'meta.node', contains: [{ meta: { node: 'edge-1' } }] },
    ]);
  });

  it('a value that reads as a JSON number, boolean or null matches that value too', () => {
    expect(splitDataFilters({ 'data.port': '443' }).filters[0].contains).toEqual([{ port: '443' }, { port: 443 }]);
    expect(splitDataFilters({ 'data.ok': 'true' }).filters[0].contains).toEqual([{ ok: 'true' }, { ok: true }]);
    expect(splitDataFilters({ 'data.v': '007' }).filters[0].contains).toEqual([{ v: '007' }]);
  });

  it('refuses empty names, repeated keys, deep paths and too many filters', () => {
    expect(() => splitDataFilters({ 'data.': 'x' })).toThrow(/name a field/);
    expect(() => splitDataFilters({ 'data.a..b': 'x' })).toThrow(/name a field/);
    expect(() => splitDataFilters({ 'data.a': ['x', 'y'] })).toThrow(/given once/);
    expect(() => splitDataFilters({ 'data.a.b.c.d.e.f': 'x' })).toThrow(/levels deep/);
    expect(() => splitDataFilters(Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [`data.${k}`, '1'])))).toThrow(/At most 5/);
  });
});
