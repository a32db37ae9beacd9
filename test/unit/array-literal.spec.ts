import { arrayLiteral } from '../../src/database/array-literal';

describe('arrayLiteral', () => {
  it('writes uuids, numbers, booleans and timestamps bare, and null, undefined and non-finite numbers as NULL', () => {
    const at = new Date(Date.UTC(2026, 11, 3, 20, 0, 0, 5));
    expect(arrayLiteral(['0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b', 3, 2.5, true, false, at, null, undefined, NaN, Infinity])).toBe(
      '{0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b,3,2.5,t,f,2026-12-03T20:00:00.005Z,NULL,NULL,NULL,NULL}',
    );
    expect(arrayLiteral([])).toBe('{}');
  });

  it('quotes any string PostgreSQL would misread bare, escaping backslashes and quotes', () => {
    expect(arrayLiteral(['a,b', '{x}', 'say "hi"', 'back\\slash', 'two words', 'line\nbreak', '', 'NULL', 'null', 'service.started'])).toBe(
      '{"a,b","{x}","say \\"hi\\"","back\\\\slash","two words","line\nbreak","","NULL","null",service.started}',
    );
  });
});
