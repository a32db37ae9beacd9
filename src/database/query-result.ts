/**
 * TypeORM's PostgreSQL driver answers `DataSource.query` with `[rows, affectedCount]`
 * for UPDATE and DELETE statements and with plain rows for everything else.
 */
function isUpdateResult(result: unknown): result is [unknown[], number] {
  return Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number';
}

/** The rows a statement returned (RETURNING, or a SELECT). */
export function returnedRows<T>(result: unknown): T[] {
  return (isUpdateResult(result) ? result[0] : result) as T[];
}

/** How many rows an UPDATE or DELETE touched. */
export function affectedRows(result: unknown): number {
  return isUpdateResult(result) ? result[1] : 0;
}
