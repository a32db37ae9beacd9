import { sqlIntArray, sqlInteger, sqlUuidArray } from '../../src/database/simple-query';

describe('SQL literals for simpleQuery', () => {
  it('writes integers and refuses anything else', () => {
    expect(sqlInteger(0)).toBe('0');
    expect(sqlInteger(-12)).toBe('-12');
    expect(() => sqlInteger(1.5)).toThrow('not an integer: 1.5');
    expect(() => sqlInteger(Number.NaN)).toThrow('not an integer');
    expect(() => sqlInteger(2 ** 60)).toThrow('not an integer');
    expect(() => sqlInteger('1; DROP TABLE x' as unknown as number)).toThrow('not an integer');
  });

  it('writes uuid arrays and refuses a string that is not a uuid', () => {
    const a = '0190f0a4-7f3c-7b1e-9c41-3d2a1b0c9e8f';
    const b = 'FFFFFFFF-0000-4000-8000-000000000000';
    expect(sqlUuidArray([])).toBe("'{}'::uuid[]");
    expect(sqlUuidArray([a, b])).toBe(`'{${a},${b}}'::uuid[]`);
    expect(() => sqlUuidArray([a, "x'}'::uuid[]; --"])).toThrow('not a uuid');
    expect(() => sqlUuidArray([`${a} `])).toThrow('not a uuid');
  });

  it('writes int arrays and refuses fractions', () => {
    expect(sqlIntArray([])).toBe("'{}'::int[]");
    expect(sqlIntArray([3, 0, -1])).toBe("'{3,0,-1}'::int[]");
    expect(() => sqlIntArray([1, 0.5])).toThrow('not an integer: 0.5');
  });
});
