import type { DataSource } from 'typeorm';
import type { Pool, QueryResult } from 'pg';

/**
 * Runs several statements in one round trip, over PostgreSQL's simple query
 * protocol: the server runs them as one implicit transaction, so a
 * `SET LOCAL` among them lasts until the last one ends, with no BEGIN and
 * COMMIT of their own (three round trips saved). The protocol takes no
 * parameters: values go into the text as literals (`sqlInteger`,
 * `sqlUuidArray`, `sqlIntArray`), which check what they are given. Resolves
 * with each statement's result, in order.
 */
export async function simpleQuery(db: DataSource, sql: string): Promise<QueryResult[]> {
  const pool = (db.driver as unknown as { master: Pool }).master;
  const result = (await pool.query(sql)) as QueryResult | QueryResult[];
  return Array.isArray(result) ? result : [result];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An integer as a SQL literal; anything else throws (it would end up in a statement's text). */
export function sqlInteger(n: number): string {
  if (!Number.isSafeInteger(n)) throw new TypeError(`not an integer: ${String(n)}`);
  return String(n);
}

/** A uuid[] literal (`'{…}'::uuid[]`); a string that is not a uuid throws. */
export function sqlUuidArray(ids: readonly string[]): string {
  for (const id of ids) if (!UUID.test(id)) throw new TypeError(`not a uuid: ${JSON.stringify(id)}`);
  return `'{${ids.join(',')}}'::uuid[]`;
}

/** An int[] literal (`'{…}'::int[]`); a value that is not an integer throws. */
export function sqlIntArray(values: readonly number[]): string {
  return `'{${values.map(sqlInteger).join(',')}}'::int[]`;
}
