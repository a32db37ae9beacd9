/** Direct SQL the scenarios use around the service: clearing the delivery tables and checking what was recorded. */
import type { Client } from 'pg';
import { sleep } from './stats';

export async function truncateDeliveries(db: Client): Promise<void> {
  await db.query('TRUNCATE webhook_logs, webhook_events, delivery_queue');
}

export async function statusCounts(db: Client): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM webhook_attempts GROUP BY status');
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * Waits until `succeeded` attempts are recorded and none is pending or
 * sending (results are written in batches, a moment after the request).
 */
export async function waitForRecorded(db: Client, succeeded: number, timeoutMs = 60_000): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const counts = await statusCounts(db);
    const open = (counts.pending ?? 0) + (counts.sending ?? 0);
    if (((counts.succeeded ?? 0) >= succeeded && open === 0) || Date.now() > deadline) return counts;
    await sleep(100);
  }
}
