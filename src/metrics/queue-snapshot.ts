import type { DataSource } from 'typeorm';
import { Status } from '../delivery/attempt-status';

/** The delivery queue and the webhook registry as one scrape sees them (all instances together: it is the database's view). */
export interface QueueSnapshot {
  pending: number;
  due: number;
  oldestDueAgeSeconds: number;
  disabledWebhooks: number;
}

/**
 * One statement per scrape. The `webhook_logs` part reads only the partial
 * index idx_webhook_logs_due (`scheduled_at WHERE status = 'pending'`), so its
 * cost follows the queue length, not the log's; `webhooks` is small.
 */
export const QUEUE_SNAPSHOT_SQL = `
SELECT q.pending, q.due, COALESCE(EXTRACT(EPOCH FROM now() - q.oldest_due_at), 0) AS oldest_due_age_s,
       (SELECT count(*) FROM webhooks WHERE NOT enabled) AS disabled
FROM (SELECT count(*) AS pending,
             count(*) FILTER (WHERE scheduled_at <= now()) AS due,
             min(scheduled_at) FILTER (WHERE scheduled_at <= now()) AS oldest_due_at
      FROM webhook_logs WHERE status = '${Status.Pending}') q`;

/** Runs the snapshot query, giving up after `timeoutMs` so a hung database cannot hang the scrape. */
export async function readQueueSnapshot(db: DataSource, timeoutMs: number): Promise<QueueSnapshot> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the queue query took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const rows = (await Promise.race([db.query(QUEUE_SNAPSHOT_SQL), timeout])) as Array<Record<string, string | number>>;
    const row = rows[0];
    return {
      pending: Number(row.pending),
      due: Number(row.due),
      oldestDueAgeSeconds: Math.max(0, Number(row.oldest_due_age_s)),
      disabledWebhooks: Number(row.disabled),
    };
  } finally {
    clearTimeout(timer);
  }
}
