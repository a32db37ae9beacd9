import { uuidv7 } from '../../src/common/uuid-v7';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millis = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('uuidv7', () => {
  it('is a version 7, RFC 9562 variant UUID carrying the given time in its first 48 bits', () => {
    const at = Date.UTC(2026, 11, 3, 16, 0, 0, 123);
    const id = uuidv7(at);
    expect(id).toMatch(UUID);
    expect(millis(id)).toBe(at);
  });

  it('sorts by time: ids of later milliseconds compare greater, as text and as PostgreSQL compares uuids (bytewise)', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => uuidv7(1_800_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differs in its random part between ids of the same millisecond, across refills of the random pool', () => {
    const ids = Array.from({ length: 2000 }, () => uuidv7(1_800_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(UUID);
  });

  it('defaults to the current time', () => {
    const before = Date.now();
    const id = uuidv7();
    expect(millis(id)).toBeGreaterThanOrEqual(before);
    expect(millis(id)).toBeLessThanOrEqual(Date.now());
  });
});
