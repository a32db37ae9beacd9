import { summarizeResults } from '../../src/delivery/queue/result-summary';

const at = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s));

describe('summarizeResults', () => {
  it('applies each webhook’s results in time order: a success resets the streak, later failures start a new one', () => {
    const summaries = summarizeResults([
      { webhookId: 'b', success: false, finishedAt: at(3), error: 'HTTP 500' },
      { webhookId: 'a', success: true, finishedAt: at(1), error: null },
      { webhookId: 'b', success: true, finishedAt: at(2), error: null },
      { webhookId: 'b', success: false, finishedAt: at(4), error: 'HTTP 503' },
    ]);
    expect(summaries).toEqual([
      { webhookId: 'a', triggeredAt: at(1), successAt: at(1), failureAt: null, error: null, statusCode: null, reset: true, failures: 0, failingSince: null },
      {
        webhookId: 'b',
        triggeredAt: at(4),
        successAt: at(2),
        failureAt: at(4),
        error: 'HTTP 503',
        statusCode: null,
        reset: true,
        failures: 2,
        failingSince: at(3),
      },
    ]);
  });

  it('failures only: no reset, the streak and its start; a missing error is named', () => {
    expect(
      summarizeResults([
        { webhookId: 'c', success: false, finishedAt: at(5), error: null },
        { webhookId: 'c', success: false, finishedAt: at(5), error: 'timed out' },
      ]),
    ).toEqual([
      {
        webhookId: 'c',
        triggeredAt: at(5),
        successAt: null,
        failureAt: at(5),
        error: 'timed out',
        statusCode: null,
        reset: false,
        failures: 2,
        failingSince: at(5),
      },
    ]);
    expect(summarizeResults([])).toEqual([]);
  });

  it('attempts that do not count for the streak (operational events) update the times and last error only', () => {
    expect(
      summarizeResults([
        { webhookId: 'd', success: false, finishedAt: at(1), error: 'HTTP 500', countsForStreak: false },
        { webhookId: 'd', success: true, finishedAt: at(2), error: null, countsForStreak: false },
        { webhookId: 'e', success: false, finishedAt: at(1), error: 'HTTP 502' },
        { webhookId: 'e', success: true, finishedAt: at(2), error: null, countsForStreak: false },
        { webhookId: 'e', success: false, finishedAt: at(3), error: 'HTTP 503', statusCode: 503, countsForStreak: false },
      ]),
    ).toEqual([
      {
        webhookId: 'd',
        triggeredAt: at(2),
        successAt: at(2),
        failureAt: at(1),
        error: 'HTTP 500',
        statusCode: null,
        reset: false,
        failures: 0,
        failingSince: null,
      },
      {
        webhookId: 'e',
        triggeredAt: at(3),
        successAt: at(2),
        failureAt: at(3),
        error: 'HTTP 503',
        statusCode: 503,
        reset: false,
        failures: 1,
        failingSince: at(1),
      },
    ]);
  });
});
