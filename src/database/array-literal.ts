/**
 * A PostgreSQL array literal (`{a,b,NULL}`) for a query parameter, built here
 * rather than by the driver, which quotes and escapes every element of an
 * array parameter with regular expressions: for the queue's batch inserts
 * that was a measurable share of the service's time per attempt. Elements
 * that cannot be misread (uuids, ISO timestamps, numbers, booleans) go bare;
 * any other string is double-quoted with `\` and `"` escaped, as PostgreSQL's
 * array input reads it. null, undefined and non-finite numbers are NULL.
 */
export function arrayLiteral(values: ReadonlyArray<string | number | boolean | Date | null | undefined>): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += element(values[i]);
  }
  return out + '}';
}

/** Strings PostgreSQL reads back unchanged without quotes: no separator, brace, quote, backslash or space, and not the word NULL. */
const BARE = /^[^\s,{}"\\]+$/;

function element(v: string | number | boolean | Date | null | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (v instanceof Date) return v.toISOString();
  if (BARE.test(v) && (v.length !== 4 || v.toUpperCase() !== 'NULL')) return v;
  return '"' + v.replace(/[\\"]/g, '\\$&') + '"';
}

/** SQL for parameter `n`, a JSON array of strings or nulls, as a text[] in the array's order (texts of any content, escaped by JSON.stringify). */
export const jsonTexts = (n: number): string => `ARRAY(SELECT x FROM json_array_elements_text($${n}::json) WITH ORDINALITY AS t(x, i) ORDER BY i)`;

/** SQL for parameter `n`, a JSON array, as a json[] in the array's order (a JSON null stays a JSON null). */
export const jsonValues = (n: number): string => `ARRAY(SELECT x FROM json_array_elements($${n}::json) WITH ORDINALITY AS t(x, i) ORDER BY i)`;
