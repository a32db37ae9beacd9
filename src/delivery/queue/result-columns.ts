import type { FinishedAttempt } from './attempt-store';

/**
 * A batch of finished attempts as the eleven parameters of the result write
 * (AttemptStore.recordResults), one per column in FinishedAttempt's order.
 * Ids (uuids from the queue), numbers and booleans go as PostgreSQL array
 * literals: none of them can hold a character that needs quoting. Texts and
 * header objects go as JSON arrays: `JSON.stringify` escapes them in native
 * code, and PostgreSQL splits them with json_array_elements(_text).
 */
export function resultColumns(results: FinishedAttempt[]): string[] {
  let ids = '';
  let success = '';
  let codes = '';
  let durations = '';
  let retries = '';
  let started = '';
  let finished = '';
  const errors = new Array<string | null>(results.length);
  const requestHeaders = new Array<Record<string, string>>(results.length);
  const responseHeaders = new Array<Record<string, string> | null>(results.length);
  const bodies = new Array<string | null>(results.length);
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    const sep = i === 0 ? '' : ',';
    ids += sep + r.id;
    success += sep + (r.success ? 't' : 'f');
    codes += sep + integerOrNull(r.status_code);
    durations += sep + integerOrNull(r.duration_ms);
    retries += sep + numberOrNull(r.next_retry_ms);
    started += sep + numberOrNull(r.started_ms);
    finished += sep + numberOrNull(r.finished_ms);
    errors[i] = r.error;
    requestHeaders[i] = r.request_headers;
    responseHeaders[i] = r.response_headers;
    bodies[i] = r.response_body;
  }
  return [
    `{${ids}}`,
    `{${success}}`,
    `{${codes}}`,
    `{${durations}}`,
    JSON.stringify(errors),
    JSON.stringify(requestHeaders),
    JSON.stringify(responseHeaders),
    JSON.stringify(bodies),
    `{${retries}}`,
    `{${started}}`,
    `{${finished}}`,
  ];
}

/** An int column's element: a whole number, or NULL (so a stray fraction or NaN cannot break the array literal). */
function integerOrNull(n: number | null): string {
  return n === null || !Number.isFinite(n) ? 'NULL' : String(Math.round(n));
}

function numberOrNull(n: number | null): string {
  return n === null || !Number.isFinite(n) ? 'NULL' : String(n);
}
