import { parseDurationList, parseDurationMs } from '../../src/config/duration';

describe('parseDurationMs', () => {
  it.each([
    ['1500', 1500],
    ['250ms', 250],
    ['5s', 5000],
    ['5m', 300000],
    ['2h', 7200000],
    ['1d', 86400000],
    ['1.5s', 1500],
    ['2 hours', 7200000], // ms reads long forms too
  ])('%s → %d ms', (raw, ms) => {
    expect(parseDurationMs(raw)).toBe(ms);
  });

  it.each(['', 'five', '5x', '-5s'])('rejects %p', (raw) => {
    expect(() => parseDurationMs(raw)).toThrow(/must be a duration/);
  });

  it('parses the default retry schedule into seven delays', () => {
    expect(parseDurationList('5s,5m,30m,2h,5h,10h,10h')).toEqual([5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000]);
  });
});
