import { resultColumns } from '../../src/delivery/queue/result-columns';
import type { FinishedAttempt } from '../../src/delivery/queue/attempt-store';

const base: FinishedAttempt = {
  id: '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
  success: true,
  status_code: 200,
  duration_ms: 3,
  error: null,
  request_headers: { 'X-ATLAS-Event': 'service.started' },
  response_headers: { 'content-type': 'text/plain' },
  response_body: 'ok',
  next_retry_ms: null,
  started_ms: 1_795_000_000_000,
  finished_ms: 1_795_000_000_003,
};

describe('resultColumns', () => {
  it('gives one parameter per column, each holding the batch in order', () => {
    const second: FinishedAttempt = {
      ...base,
      id: '0190a1b2-c3d4-7e5f-8a6b-000000000002',
      success: false,
      status_code: null,
      duration_ms: 10_000,
      error: 'request failed: ECONNREFUSED',
      response_headers: null,
      response_body: null,
      next_retry_ms: 1_795_000_060_000.5,
    };
    const [ids, ok, codes, durations, errors, rqh, rsh, bodies, retries, started, finished] = resultColumns([base, second]);
    expect(ids).toBe(`{${base.id},${second.id}}`);
    expect(ok).toBe('{t,f}');
    expect(codes).toBe('{200,NULL}');
    expect(durations).toBe('{3,10000}');
    expect(JSON.parse(errors)).toEqual([null, 'request failed: ECONNREFUSED']);
    expect(JSON.parse(rqh)).toEqual([base.request_headers, base.request_headers]);
    expect(JSON.parse(rsh)).toEqual([base.response_headers, null]);
    expect(JSON.parse(bodies)).toEqual(['ok', null]);
    expect(retries).toBe('{NULL,1795000060000.5}');
    expect(started).toBe('{1795000000000,1795000000000}');
    expect(finished).toBe('{1795000000003,1795000000003}');
  });

  it('carries texts with quotes, backslashes, braces, commas and control characters unchanged (as JSON)', () => {
    const awkward = 'a "b", {c} \\ d\n\te\u0001 é 😀';
    const [, , , , errors, rqh, , bodies] = resultColumns([{ ...base, error: awkward, response_body: awkward, request_headers: { 'X-Odd': awkward } }]);
    expect(JSON.parse(errors)).toEqual([awkward]);
    expect(JSON.parse(bodies)).toEqual([awkward]);
    expect(JSON.parse(rqh)).toEqual([{ 'X-Odd': awkward }]);
  });

  it('writes a non-finite or fractional number where an int column expects a whole one as NULL or rounded, never as text the array literal would reject', () => {
    const [, , codes, durations, , , , , retries] = resultColumns([{ ...base, status_code: NaN, duration_ms: 2.6, next_retry_ms: Infinity }]);
    expect(codes).toBe('{NULL}');
    expect(durations).toBe('{3}');
    expect(retries).toBe('{NULL}');
  });
});
